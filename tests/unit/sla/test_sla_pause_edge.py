"""The pause audit at the edge: who changed a status, read from the event; the window of the
report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sla_edge_builders import status_changed

from stopclock_shared.errors import Invalid
from stopclock_sla.facts_from_events import status_fact
from stopclock_sla.use_cases import report_window

T0 = datetime(2026, 3, 27, 9, tzinfo=UTC)
NOW = datetime(2026, 12, 3, 15, tzinfo=UTC)


def fact_of(**fields: Any) -> Any:
    env, data = status_changed(T0, 4, "waiting_on_user", "info_requested")
    return status_fact(env, data.model_copy(update=fields))


@pytest.mark.parametrize(
    ("actor_id", "roles", "by_requester", "by_desk"),
    [
        pytest.param("agent-1", ("agent",), False, True, id="an-agent-is-the-desk"),
        pytest.param("boss", ("manager",), False, True, id="a-manager-is-the-desk"),
        pytest.param("req-1", ("requester",), True, False, id="the-requester-answers"),
        pytest.param("req-1", ("agent",), True, False, id="an-agent-who-is-the-requester"),
        pytest.param("system", ("service",), False, False, id="automation-is-neither"),
        pytest.param(None, (), False, False, id="nobody-named"),
    ],
)
def test_a_status_change_says_who_made_it(
    actor_id: str | None, roles: tuple[str, ...], by_requester: bool, by_desk: bool
) -> None:
    fact = fact_of(actor_id=actor_id, actor_roles=roles)
    assert (fact.actor_id, fact.by_requester, fact.by_desk) == (actor_id, by_requester, by_desk)


@pytest.mark.parametrize(
    ("note", "with_note"),
    [("What is your VPN client version?", True), ("  ", False), (None, False)],
)
def test_a_blank_note_is_no_question(note: str | None, with_note: bool) -> None:
    assert fact_of(note=note).with_note is with_note


def test_the_window_defaults_to_the_last_30_days() -> None:
    assert report_window(None, None, NOW) == (NOW - timedelta(days=30), NOW)


def test_the_window_is_read_in_utc() -> None:
    paris = datetime(2026, 6, 1, 2, tzinfo=UTC).astimezone()
    start, end = report_window(paris, None, NOW)
    assert (start.tzinfo, end.tzinfo) == (UTC, UTC)
    assert start == paris


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        pytest.param(NOW, NOW, "to", id="empty"),
        pytest.param(NOW, NOW - timedelta(days=1), "to", id="inverted"),
        pytest.param(NOW - timedelta(days=366, seconds=1), NOW, "from", id="too-wide"),
        pytest.param(None, datetime(1, 1, 2, tzinfo=UTC), "to", id="before-the-first-date"),
    ],
)
def test_a_bad_window_is_refused_naming_the_field(
    start: datetime | None, end: datetime | None, field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        report_window(start, end, NOW)
    assert [e.field for e in caught.value.errors] == [field]


def test_a_window_of_366_days_is_allowed() -> None:
    assert report_window(NOW - timedelta(days=366), NOW, NOW)[0] == NOW - timedelta(days=366)
