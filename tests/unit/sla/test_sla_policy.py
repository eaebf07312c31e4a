"""SLA policies: validation with field errors, and which policy a ticket gets."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stopclock_sla.domain.policy import (
    PolicyError,
    PolicyMatch,
    SlaPolicy,
    Target,
    match_policy,
    policy_from_spec,
    policy_to_spec,
    validate_policy,
)

CALENDARS = {"24x7", "paris-office"}

GOOD: dict[str, Any] = {
    "match": {"type": "incident", "priority": "P1"},
    "order": 10,
    "pause_statuses": ["waiting_on_user"],
    "warn_at": [0.5, 0.75, 0.9],
    "targets": {
        "first_response": {"seconds": 900, "calendar": "24x7", "pause_reasons": ["info_requested"]},
        "resolution": {"seconds": 14400, "calendar": "paris-office"},
    },
}


def spec_with(path: str, value: Any) -> dict[str, Any]:
    spec = copy.deepcopy(GOOD)
    *parents, leaf = path.split(".")
    node = spec
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[leaf]
    else:
        node[leaf] = value
    return spec


DELETE = object()


def policy(name: str, order: int, **match: str) -> SlaPolicy:
    return SlaPolicy(name, 1, PolicyMatch(**match), order, Target(3600, "24x7"))


def test_a_valid_spec_builds_a_policy_that_shows_the_same_spec() -> None:
    built = policy_from_spec("p1-incidents", GOOD, version=3, calendars=CALENDARS)
    assert built.version == 3
    assert built.first_response == Target(900.0, "24x7", ("info_requested",))
    assert policy_to_spec(built) == GOOD


def test_a_policy_survives_its_dict_form() -> None:
    built = policy_from_spec("p1-incidents", GOOD, version=3, calendars=CALENDARS)
    assert SlaPolicy.from_dict(built.to_dict()) == built


def test_omitted_pause_statuses_and_warnings_take_the_defaults() -> None:
    spec = {"match": {}, "order": 1, "targets": {"resolution": {"seconds": 60, "calendar": "24x7"}}}
    built = policy_from_spec("fallback", spec, version=1, calendars=CALENDARS)
    assert built.pause_statuses == ("waiting_on_user",)
    assert built.warn_at == (0.5, 0.75, 0.9)
    assert built.first_response is None
    assert list(built.targets) == ["resolution"]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("pause_statuses", ["sleeping"], "pause_statuses[0]"),
        ("pause_statuses", ["resolved"], "pause_statuses[0]"),
        ("pause_statuses", ["closed"], "pause_statuses[0]"),
        ("pause_statuses", ["cancelled"], "pause_statuses[0]"),
        ("pause_statuses", ["waiting_on_user", "waiting_on_user"], "pause_statuses[1]"),
        ("warn_at", [0.5, 1.0], "warn_at[1]"),
        ("warn_at", [0.0], "warn_at[0]"),
        ("warn_at", [0.9, 0.5], "warn_at[1]"),
        ("warn_at", [0.5, 0.5], "warn_at[1]"),
        ("warn_at", ["half"], "warn_at[0]"),
        ("targets.resolution.calendar", "mars-office", "targets.resolution.calendar"),
        ("targets.resolution.seconds", 0, "targets.resolution.seconds"),
        ("targets.resolution.seconds", -60, "targets.resolution.seconds"),
        ("targets.resolution.seconds", "1h", "targets.resolution.seconds"),
        (
            "targets.first_response.pause_reasons",
            ["lunch"],
            "targets.first_response.pause_reasons[0]",
        ),
        ("targets.resolution", DELETE, "targets.resolution"),
        ("targets.escalation", {"seconds": 1, "calendar": "24x7"}, "targets.escalation"),
        ("match.priority", "P9", "match.priority"),
        ("match.type", "problem", "match.type"),
        ("match.colour", "red", "match.colour"),
        ("order", "first", "order"),
    ],
)
def test_an_invalid_policy_reports_the_field(path: str, value: Any, field: str) -> None:
    with pytest.raises(PolicyError) as caught:
        policy_from_spec("bad", spec_with(path, value), version=1, calendars=CALENDARS)
    assert field in [e.field for e in caught.value.errors]


def test_every_problem_is_reported_at_once() -> None:
    spec = spec_with("warn_at", [2.0])
    spec["pause_statuses"] = ["closed"]
    spec["targets"]["resolution"]["seconds"] = 0
    with pytest.raises(PolicyError) as caught:
        policy_from_spec("bad", spec, version=1, calendars=CALENDARS)
    assert {e.field for e in caught.value.errors} == {
        "warn_at[0]",
        "pause_statuses[0]",
        "targets.resolution.seconds",
    }


def test_validation_without_known_calendars_skips_the_calendar_check() -> None:
    unknown = SlaPolicy("p", 1, PolicyMatch(), 0, Target(60, "anywhere"))
    assert validate_policy(unknown, None) == ()
    assert [e.field for e in validate_policy(unknown, {"24x7"})] == ["targets.resolution.calendar"]


@pytest.mark.parametrize(
    ("status", "reason", "pauses"),
    [
        ("waiting_on_user", "user_validation", True),
        ("waiting_on_user", "info_requested", False),
        ("assigned", None, True),
        ("in_progress", None, False),
    ],
)
def test_pause_reasons_narrow_only_the_waiting_status(
    status: str, reason: str | None, pauses: bool
) -> None:
    target = Target(60, "24x7", pause_reasons=("user_validation",))
    assert target.pauses_on(("waiting_on_user", "assigned"), status, reason) is pauses


def test_a_target_without_pause_reasons_pauses_for_every_waiting_reason() -> None:
    target = Target(60, "24x7")
    reasons = ("info_requested", "user_validation", "user_response")
    assert all(target.pauses_on(("waiting_on_user",), "waiting_on_user", r) for r in reasons)


def test_an_empty_pause_reason_list_never_pauses_on_waiting() -> None:
    target = Target(60, "24x7", pause_reasons=())
    assert not target.pauses_on(("waiting_on_user",), "waiting_on_user", "info_requested")


@pytest.mark.parametrize(
    ("ticket", "expected"),
    [
        (("incident", "P1", "mail"), "p1-mail"),
        (("incident", "P1", "vpn"), "p1"),
        (("service_request", "P1", "mail"), "mail-any"),
        (("service_request", "P3", "vpn"), "catch-all"),
    ],
)
def test_the_matching_policy_with_the_lowest_order_wins(
    ticket: tuple[str, str, str], expected: str
) -> None:
    policies = [
        policy("catch-all", 100),
        policy("p1", 10, type="incident", priority="P1"),
        policy("p1-mail", 5, type="incident", priority="P1", service="mail"),
        policy("mail-any", 50, service="mail"),
    ]
    found = match_policy(policies, *ticket)
    assert found is not None
    assert found.name == expected


def test_equal_orders_are_broken_by_name() -> None:
    policies = [policy("zulu", 1), policy("alpha", 1), policy("mike", 1)]
    found = match_policy(policies, "incident", "P2", None)
    assert found is not None
    assert found.name == "alpha"


def test_no_policy_matches_when_a_match_field_differs() -> None:
    policies = [policy("p1", 1, priority="P1"), policy("mail", 1, service="mail")]
    assert match_policy(policies, "incident", "P2", None) is None
