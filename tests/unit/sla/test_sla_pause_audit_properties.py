"""Properties of the pause audit over random ticket histories: it agrees with the clocks,
adds up exactly, and survives redelivery and storage."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stopclock_shared.business_time import Calendar
from stopclock_sla.domain import (
    CommentAdded,
    Fact,
    PauseReport,
    PolicyMatch,
    PriorityChanged,
    SlaPolicy,
    StatusChanged,
    Target,
    TicketAudit,
    TicketClocks,
    TicketFacts,
    audit_ticket,
    gained,
    match_policy,
    start_clocks,
    view,
)

HOUR = 3600
US = 1_000_000
T0 = datetime(2026, 3, 20, 8, 17, tzinfo=UTC)  # a week before the Paris DST change
OFFICE = Calendar.weekly(
    "office", "Europe/Paris", {d: [("09:00", "12:00"), ("13:00", "18:00")] for d in range(5)}
)
CALENDARS = {"24x7": Calendar.always(), "office": OFFICE}
POLICIES = [
    SlaPolicy(
        name="office",
        version=1,
        match=PolicyMatch(priority="P1"),
        order=10,
        resolution=Target(8 * HOUR, "office", pause_reasons=("info_requested", "user_response")),
        pause_statuses=("waiting_on_user", "assigned"),
    ),
    SlaPolicy(
        name="always",
        version=1,
        match=PolicyMatch(priority="P3"),
        order=30,
        first_response=Target(HOUR, "24x7"),
        resolution=Target(27 * HOUR, "24x7"),
    ),
]
PROPS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
STATUSES = st.sampled_from(
    [
        ("assigned", None),
        ("in_progress", None),
        ("waiting_on_user", "info_requested"),
        ("waiting_on_user", "user_validation"),
        ("waiting_on_user", "user_response"),
        ("resolved", None),
        ("closed", None),
        ("cancelled", None),
    ]
)
ACTORS = st.sampled_from(
    [
        ("agent-1", False, True),
        ("agent-2", False, True),
        ("req-1", True, False),
        ("system", False, False),
    ]
)
GAPS = st.integers(0, 2 * 86_400 * US).map(lambda us: timedelta(microseconds=us))


@st.composite
def facts(draw: st.DrawFn, sequence: int, at: datetime) -> Fact:
    kind = draw(st.sampled_from(["status", "status", "comment", "priority"]))
    if kind == "status":
        (to, reason), (actor, by_requester, by_desk) = draw(STATUSES), draw(ACTORS)
        return StatusChanged(
            sequence=sequence,
            at=at,
            to_status=to,
            reason=reason,
            actor_id=actor,
            by_requester=by_requester,
            by_desk=by_desk,
            with_note=draw(st.booleans()),
        )
    if kind == "comment":
        return CommentAdded(
            sequence=sequence, at=at, public=draw(st.booleans()), by_requester=draw(st.booleans())
        )
    priority = draw(st.sampled_from(["P1", "P3"]))
    return PriorityChanged(
        sequence=sequence,
        at=at,
        priority=priority,
        policy=match_policy(POLICIES, "incident", priority, None),
    )


@st.composite
def histories(draw: st.DrawFn) -> tuple[str, list[Fact], timedelta]:
    at, found = T0, []
    for sequence in range(2, 2 + draw(st.integers(0, 12))):
        at += draw(GAPS)
        found.append(draw(facts(sequence, at)))
    return draw(st.sampled_from(["P1", "P3"])), found, draw(GAPS)


def replay(priority: str, history: list[Fact]) -> list[TicketClocks]:
    """Every state of the ticket, from its opening to its last fact."""
    opened = TicketFacts(ticket_id="T-7", sequence=1, type="incident", priority=priority)
    state, _ = start_clocks(
        match_policy(POLICIES, "incident", priority, None), CALENDARS, opened, T0
    )
    states = [state]
    for fact in history:
        state, _ = state.apply(fact, CALENDARS)
        states.append(state)
    return states


def audit_at_end(
    case: tuple[str, list[Fact], timedelta],
) -> tuple[TicketClocks, TicketAudit, datetime]:
    priority, history, later = case
    state = replay(priority, history)[-1]
    now = state.last_at + later
    found = audit_ticket(state, CALENDARS, now)
    assert found is not None  # both policies have a resolution target
    return state, found, now


@PROPS
@given(histories())
def test_paused_time_never_exceeds_business_time_and_reasons_add_up_exactly(
    case: tuple[str, list[Fact], timedelta],
) -> None:
    _, audit, _ = audit_at_end(case)
    assert 0 <= audit.paused_us <= audit.business_us
    assert sum(audit.by_reason_us.values()) == audit.paused_us
    assert all(v > 0 for v in audit.by_reason_us.values())
    assert sum(w.paused_us for w in audit.waits) <= audit.paused_us


@PROPS
@given(histories())
def test_the_audit_reads_the_same_time_as_the_resolution_clock(
    case: tuple[str, list[Fact], timedelta],
) -> None:
    state, audit, now = audit_at_end(case)
    clock = state.clock("resolution")
    assert clock is not None
    shown = view(clock, CALENDARS[clock.calendar], now)
    assert audit.paused_us / US == shown.paused_seconds
    assert abs(audit.business_us - (shown.elapsed_seconds + shown.paused_seconds) * US) <= 1


@PROPS
@given(histories())
def test_each_wait_is_one_entry_into_waiting_on_user(
    case: tuple[str, list[Fact], timedelta],
) -> None:
    priority, history, _ = case
    state = replay(priority, history)[-1]
    entries = [
        f for f in history if isinstance(f, StatusChanged) and f.to_status == "waiting_on_user"
    ]
    assert [w.set_by for w in state.ledger.waits] == [f.actor_id for f in entries]
    assert all(w.ended_at is not None for w in state.ledger.waits[:-1])


@PROPS
@given(histories())
def test_redelivering_every_fact_changes_nothing(case: tuple[str, list[Fact], timedelta]) -> None:
    priority, history, later = case
    once = replay(priority, history)[-1]
    twice = once
    for fact in history:
        twice, events = twice.apply(fact, CALENDARS)
        assert events == ()
    assert twice == once
    assert audit_ticket(twice, CALENDARS, once.last_at + later) == audit_ticket(
        once, CALENDARS, once.last_at + later
    )


@PROPS
@given(histories())
def test_the_ledger_survives_storage(case: tuple[str, list[Fact], timedelta]) -> None:
    priority, history, _ = case
    state = replay(priority, history)[-1]
    stored = json.loads(json.dumps(state.to_dict()))
    assert TicketClocks.from_dict(stored) == state
    assert stored["v"] == 1


@PROPS
@given(histories())
def test_without_a_retarget_the_counters_add_up_to_the_figures_at_the_last_fact(
    case: tuple[str, list[Fact], timedelta],
) -> None:
    priority, history, _ = case
    history = [f for f in history if not isinstance(f, PriorityChanged)]
    states = replay(priority, history)
    business, paused = 0, 0
    figures = [audit_ticket(s, CALENDARS, s.ledger.fact_at or s.last_at) for s in states]
    for before, after in itertools.pairwise(figures):
        gain_business, gain_paused = gained(before, after)
        business += gain_business
        paused += sum(gain_paused.values())
    first, last = figures[0], figures[-1]
    assert first is not None
    assert last is not None
    assert (first.business_us, first.paused_us) == (0, 0)  # read at the opening
    assert (business, paused) == (last.business_us, last.paused_us)


@PROPS
@given(st.lists(histories(), max_size=5))
def test_the_report_adds_tickets_up_and_its_share_is_a_fraction(
    cases: list[tuple[str, list[Fact], timedelta]],
) -> None:
    report = PauseReport()
    audits = [audit_at_end(case)[1] for case in cases]
    for audit in audits:
        report.add(audit)
    body = report.body()
    assert body["clocks"] == len(cases)
    assert body["paused_seconds"] == sum(a.paused_us for a in audits) / US
    assert 0.0 <= body["paused_share"] <= 1.0
    assert sum(body["by_reason"].values()) == pytest.approx(body["paused_seconds"], abs=1e-6)
    waits = [w for a in audits for w in a.waits if w.set_by is not None]
    assert sum(a["pauses"] for a in body["by_agent"]) == len(waits)
    assert all(a["without_question"] <= a["pauses"] for a in body["by_agent"])
    assert [a["agent_id"] for a in body["by_agent"]] == sorted({w.set_by for w in waits})
