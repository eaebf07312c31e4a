"""What exists before anyone configures anything: 24x7 and the default policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stopclock_shared.business_time import add_business_seconds, calendar_from_spec
from stopclock_sla.domain import PolicyMatch, SlaPolicy, Target, match_policy, policy_from_spec
from stopclock_sla.domain.defaults import ALWAYS, ALWAYS_SPEC, DEFAULT_ORDER, default_policy_specs

DEFAULTS = [
    policy_from_spec(name, spec, version=1, calendars={"24x7"})
    for name, spec in default_policy_specs().items()
]


def test_the_24x7_spec_is_wall_clock_time() -> None:
    cal = calendar_from_spec("24x7", ALWAYS_SPEC)
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # a DST night in Europe
    assert cal.is_always
    assert ALWAYS.is_always
    assert add_business_seconds(cal, start, 7200) == start + timedelta(hours=2)


@pytest.mark.parametrize(
    ("priority", "first", "resolution"),
    [
        ("P1", 900, 4 * 3600),
        ("P2", 3600, 8 * 3600),
        ("P3", 4 * 3600, 86400),
        ("P4", 8 * 3600, 259200),
    ],
)
def test_each_priority_gets_its_default_targets(priority: str, first: int, resolution: int) -> None:
    policy = match_policy(DEFAULTS, "incident", priority, None)
    assert policy is not None
    assert policy.first_response == Target(first, "24x7")
    assert policy.resolution == Target(resolution, "24x7")
    assert policy.pause_statuses == ("waiting_on_user",)


def test_any_configured_policy_with_a_lower_order_wins_over_the_defaults() -> None:
    desk = SlaPolicy("desk-vpn", 1, PolicyMatch(service="vpn"), 10, Target(600, "24x7"))
    assert match_policy([*DEFAULTS, desk], "incident", "P2", "vpn") == desk
    assert all(p.order == DEFAULT_ORDER for p in DEFAULTS)
