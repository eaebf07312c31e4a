"""SLA clocks of a ticket: every transition, timers, re-targeting and idempotence."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from stopclock_shared.business_time import Calendar, business_seconds_between
from stopclock_sla.domain import (
    Clock,
    CommentAdded,
    Fact,
    PolicyMatch,
    PriorityChanged,
    SlaBreached,
    SlaCancelled,
    SlaEvent,
    SlaMet,
    SlaPaused,
    SlaPolicy,
    SlaResumed,
    SlaRetargeted,
    SlaStarted,
    SlaWarning,
    StatusChanged,
    Target,
    TargetName,
    TicketClocks,
    TicketFacts,
    due_at,
    elapsed_seconds,
    next_timer,
    paused_seconds,
    remaining_seconds,
    start_clocks,
)
from stopclock_sla.domain.clock import new_clock, pause

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600
T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)  # a Monday
OFFICE = Calendar.weekly(
    "office", "Europe/Paris", {d: [("09:00", "12:00"), ("13:00", "18:00")] for d in range(5)}
)
CALENDARS = {"24x7": Calendar.always(), "office": OFFICE}

P3 = SlaPolicy(
    name="p3",
    version=2,
    match=PolicyMatch(priority="P3"),
    order=30,
    first_response=Target(4 * HOUR, "24x7"),
    resolution=Target(10 * HOUR, "24x7"),
)
P1 = SlaPolicy(
    name="p1",
    version=1,
    match=PolicyMatch(priority="P1"),
    order=10,
    first_response=Target(HOUR, "24x7"),
    resolution=Target(4 * HOUR, "24x7"),
)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def opened(policy: SlaPolicy | None = P3, status: str = "new") -> TicketClocks:
    facts = TicketFacts(ticket_id="T-1", sequence=1, type="incident", priority="P3", status=status)
    state, _ = start_clocks(policy, CALENDARS, facts, T0)
    return state


def replay(state: TicketClocks, facts: Sequence[Fact]) -> tuple[TicketClocks, list[SlaEvent]]:
    events: list[SlaEvent] = []
    for fact in facts:
        state, more = state.apply(fact, CALENDARS)
        events += more
    return state, events


def status(seq: int, at: datetime, to: str, reason: str | None = None) -> StatusChanged:
    return StatusChanged(sequence=seq, at=at, to_status=to, reason=reason)


def clock_of(state: TicketClocks, target: TargetName) -> Clock:
    found = state.clock(target)
    assert found is not None
    return found


def kinds(events: Sequence[SlaEvent]) -> list[tuple[str, str]]:
    return [(e.kind, e.target) for e in events]


# --- starting ------------------------------------------------------------------------


def test_a_new_ticket_starts_one_running_clock_per_target() -> None:
    facts = TicketFacts(ticket_id="T-1", sequence=1, type="incident", priority="P3")
    state, events = start_clocks(P3, CALENDARS, facts, T0)
    assert [(c.target, c.state) for c in state.clocks] == [
        ("first_response", "running"),
        ("resolution", "running"),
    ]
    assert [type(e) for e in events] == [SlaStarted, SlaStarted]
    assert [e.due_at for e in events] == [hours(4), hours(10)]
    assert (state.policy, state.policy_version) == ("p3", 2)


def test_a_ticket_no_policy_matches_has_no_clocks_and_no_timer() -> None:
    state = opened(policy=None)
    assert state.clocks == ()
    assert state.next_timer(CALENDARS) is None


def test_a_ticket_created_in_a_pause_status_starts_paused() -> None:
    state = opened(
        policy=SlaPolicy("p", 1, PolicyMatch(), 0, Target(HOUR, "24x7"), pause_statuses=("new",))
    )
    assert [c.state for c in state.clocks] == ["paused"]
    assert state.next_timer(CALENDARS) is None


# --- status transitions --------------------------------------------------------------


@pytest.mark.parametrize("reason", ["info_requested", "user_validation", "user_response"])
def test_waiting_on_the_user_pauses_the_resolution_clock(reason: str) -> None:
    state, events = replay(
        opened(),
        [status(2, hours(1), "in_progress"), status(3, hours(2), "waiting_on_user", reason)],
    )
    assert clock_of(state, "resolution").state == "paused"
    assert isinstance(events[-1], SlaPaused)
    assert events[-1].target == "resolution"
    assert state.waiting_reason == reason


def test_the_requester_answering_resumes_with_the_deadline_moved_by_the_pause() -> None:
    state, events = replay(
        opened(),
        [
            status(2, hours(1), "in_progress"),
            status(3, hours(2), "waiting_on_user", "info_requested"),
            status(4, hours(5), "in_progress"),
        ],
    )
    resolution = state.clock("resolution")
    assert resolution is not None
    assert resolution.state == "running"
    assert isinstance(events[-1], SlaResumed)
    assert events[-1].due_at == hours(13)
    assert due_at(resolution, Calendar.always(), hours(6)) == hours(13)


@pytest.mark.parametrize(
    ("fact", "first_response_state"),
    [
        (status(2, hours(1), "in_progress"), "met"),
        (status(2, hours(1), "assigned"), "running"),
        (CommentAdded(sequence=2, at=hours(1), public=True, by_requester=False), "met"),
        (CommentAdded(sequence=2, at=hours(1), public=False, by_requester=False), "running"),
        (CommentAdded(sequence=2, at=hours(1), public=True, by_requester=True), "running"),
        (status(2, hours(1), "resolved"), "met"),
        (status(2, hours(1), "cancelled"), "cancelled"),
    ],
)
def test_the_first_response_is_met_by_in_progress_or_an_agent_public_comment(
    fact: Fact, first_response_state: str
) -> None:
    state, _ = opened().apply(fact, CALENDARS)
    assert clock_of(state, "first_response").state == first_response_state


def test_a_met_first_response_records_when_it_was_met() -> None:
    state, events = opened().apply(status(2, hours(1), "in_progress"), CALENDARS)
    first = state.clock("first_response")
    assert first is not None
    assert first.stopped_at == hours(1)
    assert elapsed_seconds(first, Calendar.always(), hours(50)) == HOUR
    assert [type(e) for e in events] == [SlaMet]


def test_resolving_meets_the_resolution_clock() -> None:
    state, events = replay(
        opened(), [status(2, hours(1), "in_progress"), status(3, hours(3), "resolved")]
    )
    assert clock_of(state, "resolution").state == "met"
    assert kinds(events)[-1] == ("met", "resolution")
    assert state.next_timer(CALENDARS) is None


def test_resolving_after_a_breach_stays_breached_and_stops_counting() -> None:
    state, events = replay(
        opened(), [status(2, hours(1), "in_progress"), status(3, hours(12), "resolved")]
    )
    resolution = state.clock("resolution")
    assert resolution is not None
    assert resolution.state == "breached"
    assert resolution.breached_at == hours(10)
    assert elapsed_seconds(resolution, Calendar.always(), hours(40)) == 12 * HOUR
    assert ("met", "resolution") not in kinds(events)
    assert [e.at for e in events if isinstance(e, SlaBreached)] == [hours(10)]


def test_reopening_resumes_the_resolution_clock_where_it_stopped() -> None:
    state, events = replay(
        opened(),
        [
            status(2, hours(1), "in_progress"),
            status(3, hours(3), "resolved"),
            status(4, hours(27), "in_progress"),
        ],
    )
    resolution = state.clock("resolution")
    assert resolution is not None
    assert resolution.state == "running"
    assert isinstance(events[-1], SlaResumed)
    assert elapsed_seconds(resolution, Calendar.always(), hours(28)) == 4 * HOUR
    assert due_at(resolution, Calendar.always(), hours(28)) == hours(34)
    assert clock_of(state, "first_response").state == "met"


def test_a_reopened_clock_is_met_again_on_the_next_resolution() -> None:
    state, events = replay(
        opened(),
        [
            status(2, hours(1), "in_progress"),
            status(3, hours(3), "resolved"),
            status(4, hours(27), "in_progress"),
            status(5, hours(28), "resolved"),
        ],
    )
    assert clock_of(state, "resolution").state == "met"
    assert kinds(events).count(("met", "resolution")) == 2


def test_closing_a_resolved_ticket_keeps_the_result() -> None:
    resolved, _ = replay(
        opened(), [status(2, hours(1), "in_progress"), status(3, hours(3), "resolved")]
    )
    closed, events = resolved.apply(status(4, hours(100), "closed"), CALENDARS)
    assert closed.clocks == resolved.clocks
    assert events == ()


def test_cancelling_cancels_the_running_clocks_which_then_have_no_timer() -> None:
    state, events = opened().apply(status(2, hours(1), "cancelled"), CALENDARS)
    assert [c.state for c in state.clocks] == ["cancelled", "cancelled"]
    assert [type(e) for e in events] == [SlaCancelled, SlaCancelled]
    assert all(next_timer(c, Calendar.always()) is None for c in state.clocks)
    assert state.fire(CALENDARS, hours(1000)) == (state, ())


def test_cancelling_a_breached_ticket_keeps_the_breach() -> None:
    state, _ = replay(opened(), [status(2, hours(5), "cancelled")])
    assert [c.state for c in state.clocks] == ["breached", "cancelled"]


def test_pause_reasons_narrow_which_targets_pause() -> None:
    narrow = SlaPolicy(
        name="narrow",
        version=1,
        match=PolicyMatch(),
        order=0,
        first_response=Target(HOUR, "24x7", pause_reasons=("info_requested",)),
        resolution=Target(8 * HOUR, "24x7"),
    )
    # The SLA domain follows whatever transition the ticket service allowed.
    state, _ = opened(narrow).apply(
        status(2, hours(0.25), "waiting_on_user", "user_validation"), CALENDARS
    )
    assert [(c.target, c.state) for c in state.clocks] == [
        ("first_response", "running"),
        ("resolution", "paused"),
    ]


# --- timers --------------------------------------------------------------------------


def test_timers_walk_through_the_warnings_then_the_breach() -> None:
    state = opened(SlaPolicy("p", 1, PolicyMatch(), 0, Target(10 * HOUR, "24x7")))
    seen = []
    while (timer := state.next_timer(CALENDARS)) is not None:
        seen.append((timer[1].kind, timer[1].fraction, timer[1].at))
        state, _ = state.fire(CALENDARS, timer[1].at)
    assert seen == [
        ("warning", 0.5, hours(5)),
        ("warning", 0.75, hours(7.5)),
        ("warning", 0.9, hours(9)),
        ("breach", None, hours(10)),
    ]


def test_a_late_timer_emits_everything_due_at_its_own_due_time() -> None:
    state = opened(SlaPolicy("p", 1, PolicyMatch(), 0, Target(10 * HOUR, "24x7")))
    state, events = state.fire(CALENDARS, hours(30))
    assert [(type(e), e.at) for e in events] == [
        (SlaWarning, hours(5)),
        (SlaWarning, hours(7.5)),
        (SlaWarning, hours(9)),
        (SlaBreached, hours(10)),
    ]
    assert [e.fraction for e in events if isinstance(e, SlaWarning)] == [0.5, 0.75, 0.9]
    assert state.clocks[0].breached_at == hours(10)


def test_firing_twice_changes_nothing_the_second_time() -> None:
    once, _ = opened().fire(CALENDARS, hours(30))
    assert once.fire(CALENDARS, hours(31)) == (once, ())


def test_a_timer_fired_early_does_nothing() -> None:
    state = opened()
    assert state.fire(CALENDARS, hours(1)) == (state, ())


def test_a_paused_clock_has_no_timer() -> None:
    state, _ = opened().apply(status(2, hours(1), "waiting_on_user", "info_requested"), CALENDARS)
    first = state.clock("first_response")
    assert first is not None
    assert first.is_paused
    assert next_timer(first, Calendar.always()) is None


def test_a_breached_clock_keeps_counting_overdue_time_with_nothing_remaining() -> None:
    state, _ = opened().fire(CALENDARS, hours(12))
    resolution = state.clock("resolution")
    assert resolution is not None
    assert elapsed_seconds(resolution, Calendar.always(), hours(12)) == 12 * HOUR
    assert remaining_seconds(resolution, Calendar.always(), hours(12)) == 0
    assert due_at(resolution, Calendar.always(), hours(12)) == hours(10)
    assert next_timer(resolution, Calendar.always()) is None


def test_an_event_at_exactly_the_deadline_finds_the_clock_breached() -> None:
    state, events = opened().apply(status(2, hours(4), "in_progress"), CALENDARS)
    assert clock_of(state, "first_response").state == "breached"
    assert ("met", "first_response") not in kinds(events)


def test_while_paused_due_at_is_the_deadline_if_the_requester_answered_now() -> None:
    state, _ = opened().apply(status(2, hours(1), "waiting_on_user", "info_requested"), CALENDARS)
    resolution = state.clock("resolution")
    assert resolution is not None
    always = Calendar.always()
    assert due_at(resolution, always, hours(3)) == hours(12)
    assert due_at(resolution, always, hours(20)) == hours(29)
    assert remaining_seconds(resolution, always, hours(20)) == 9 * HOUR
    assert paused_seconds(resolution, always, hours(20)) == 19 * HOUR


# --- business calendars and re-targeting ----------------------------------------------


def test_a_clock_on_business_hours_does_not_count_nights_or_lunch() -> None:
    policy = SlaPolicy("office", 1, PolicyMatch(), 0, Target(9 * HOUR, "office"))
    state = opened(policy)  # Monday 11:00 Paris
    resolution = state.clocks[0]
    assert due_at(resolution, OFFICE, T0) == datetime(2026, 6, 2, 12, tzinfo=PARIS)
    assert elapsed_seconds(resolution, OFFICE, datetime(2026, 6, 1, 14, tzinfo=PARIS)) == 2 * HOUR


def test_p3_to_p1_brings_the_deadline_closer_keeping_the_elapsed_time() -> None:
    p3 = SlaPolicy("p3", 1, PolicyMatch(priority="P3"), 30, Target(27 * HOUR, "office"))
    p1 = SlaPolicy("p1", 1, PolicyMatch(priority="P1"), 10, Target(8 * HOUR, "office"))
    state = opened(p3)  # Monday 11:00 Paris
    before = state.clocks[0]
    change = PriorityChanged(sequence=2, at=hours(3), priority="P1", policy=p1)
    state, events = state.apply(change, CALENDARS)
    after = state.clocks[0]
    assert (after.policy, after.seconds, after.started_at) == ("p1", 8 * HOUR, T0)
    assert elapsed_seconds(after, OFFICE, hours(3)) == elapsed_seconds(before, OFFICE, hours(3))
    assert due_at(after, OFFICE, hours(3)) == datetime(2026, 6, 2, 11, tzinfo=PARIS)
    assert due_at(after, OFFICE, hours(3)) < due_at(before, OFFICE, hours(3))
    assert isinstance(events[0], SlaRetargeted)
    assert (events[0].previous_policy, state.policy) == ("p3", "p1")


def test_a_retarget_recounts_elapsed_time_on_the_new_calendar_minus_the_pauses() -> None:
    p3 = SlaPolicy("p3", 1, PolicyMatch(), 30, Target(27 * HOUR, "office"))
    p1 = SlaPolicy("p1", 1, PolicyMatch(), 10, Target(8 * HOUR, "24x7"))
    state, _ = replay(
        opened(p3),
        [
            status(2, hours(1), "waiting_on_user", "info_requested"),
            status(3, hours(2), "in_progress"),
            PriorityChanged(sequence=4, at=hours(3), priority="P1", policy=p1),
        ],
    )
    clock = state.clocks[0]
    assert clock.calendar == "24x7"
    assert elapsed_seconds(clock, Calendar.always(), hours(3)) == 2 * HOUR
    assert due_at(clock, Calendar.always(), hours(3)) == hours(9)


def test_a_retarget_that_makes_a_clock_overdue_breaches_it_at_the_computed_due_time() -> None:
    change = PriorityChanged(sequence=2, at=hours(3), priority="P1", policy=P1)
    state, events = opened().apply(change, CALENDARS)
    breaches = [e for e in events if isinstance(e, SlaBreached)]
    assert [(e.target, e.at) for e in breaches] == [("first_response", hours(1))]
    assert clock_of(state, "first_response").breached_at == hours(1)
    assert clock_of(state, "resolution").state == "running"


def test_a_retarget_applies_the_new_pause_rule_to_the_current_status() -> None:
    never_pauses = SlaPolicy(
        "p1", 1, PolicyMatch(), 10, Target(8 * HOUR, "24x7"), pause_statuses=()
    )
    state, events = replay(
        opened(),
        [
            status(2, hours(1), "in_progress"),
            status(3, hours(2), "waiting_on_user", "info_requested"),
            PriorityChanged(sequence=4, at=hours(3), priority="P1", policy=never_pauses),
        ],
    )
    resolution = state.clock("resolution")
    assert resolution is not None
    assert resolution.state == "running"
    assert kinds(events)[-1] == ("resumed", "resolution")
    assert paused_seconds(resolution, Calendar.always(), hours(4)) == HOUR


def test_a_priority_change_to_the_same_policy_changes_nothing() -> None:
    state = opened()
    newer = SlaPolicy("p3", 9, PolicyMatch(), 0, Target(HOUR, "24x7"))
    after, events = state.apply(
        PriorityChanged(sequence=2, at=hours(1), priority="P2", policy=newer), CALENDARS
    )
    assert after.clocks == state.clocks
    assert after.policy_version == 2
    assert events == ()


def test_a_target_the_ticket_had_no_clock_for_starts_at_the_priority_change() -> None:
    only_resolution = SlaPolicy("p4", 1, PolicyMatch(), 40, Target(40 * HOUR, "24x7"))
    state = opened(only_resolution)
    state, events = state.apply(
        PriorityChanged(sequence=2, at=hours(2), priority="P1", policy=P1), CALENDARS
    )
    first = state.clock("first_response")
    assert first is not None
    assert first.started_at == hours(2)
    assert ("started", "first_response") in kinds(events)


def test_a_priority_change_on_a_resolved_ticket_changes_nothing() -> None:
    resolved, _ = replay(
        opened(), [status(2, hours(1), "in_progress"), status(3, hours(2), "resolved")]
    )
    after, events = resolved.apply(
        PriorityChanged(sequence=4, at=hours(3), priority="P1", policy=P1), CALENDARS
    )
    assert after.clocks == resolved.clocks
    assert events == ()


# --- idempotence and storage ---------------------------------------------------------


def test_applying_the_same_fact_twice_is_a_no_op() -> None:
    fact = status(2, hours(1), "waiting_on_user", "info_requested")
    once, _ = opened().apply(fact, CALENDARS)
    assert once.apply(fact, CALENDARS) == (once, ())


def test_an_older_fact_is_a_no_op() -> None:
    state, _ = replay(opened(), [status(5, hours(1), "in_progress")])
    assert state.apply(status(4, hours(2), "waiting_on_user", "user_response"), CALENDARS) == (
        state,
        (),
    )


def test_two_kinds_of_fact_at_the_same_sequence_are_both_applied() -> None:
    state, _ = replay(
        opened(),
        [
            status(2, hours(1), "in_progress"),
            status(3, hours(2), "waiting_on_user", "info_requested"),
            CommentAdded(sequence=4, at=hours(3), public=True, by_requester=True),
            status(4, hours(3), "in_progress"),
        ],
    )
    assert clock_of(state, "resolution").state == "running"


def test_a_fact_time_never_goes_backwards() -> None:
    state, _ = replay(
        opened(),
        [
            status(2, hours(2), "waiting_on_user", "info_requested"),
            status(3, hours(1), "in_progress"),
        ],
    )
    resolution = state.clock("resolution")
    assert resolution is not None
    assert resolution.pauses == ((hours(2), hours(2)),)


def test_the_clocks_survive_a_trip_through_json() -> None:
    state, _ = replay(
        opened(),
        [
            status(2, hours(1), "in_progress"),
            status(3, hours(2), "waiting_on_user", "user_validation"),
            status(4, hours(3), "in_progress"),
        ],
    )
    state, _ = state.fire(CALENDARS, hours(40))
    stored = json.loads(json.dumps(state.to_dict()))
    assert TicketClocks.from_dict(stored) == state


def test_the_read_view_has_the_api_fields() -> None:
    state, _ = opened().apply(status(2, hours(1), "in_progress"), CALENDARS)
    body = state.view(CALENDARS, hours(2))
    assert body["ticket_id"] == "T-1"
    assert body["policy"] == "p3"
    assert body["clocks"][1] == {
        "target": "resolution",
        "state": "running",
        "started_at": T0.isoformat(),
        "due_at": hours(10).isoformat(),
        "elapsed_seconds": 2.0 * HOUR,
        "paused_seconds": 0.0,
        "remaining_seconds": 8.0 * HOUR,
        "breached_at": None,
        "warnings": [],
    }


def test_event_payloads_carry_the_clock_figures() -> None:
    state = opened()
    _, events = state.fire(CALENDARS, hours(2.5))
    warning = events[0]
    assert isinstance(warning, SlaWarning)
    assert warning.fraction == 0.5
    assert warning.at == hours(2)
    assert warning.elapsed_seconds == 2.0 * HOUR
    assert warning.due_at == hours(4)


def test_a_clock_paused_exactly_at_its_deadline_is_due_at_the_pause() -> None:
    clock = new_clock("T", P3, "resolution", T0)
    clock, _ = pause(clock, Calendar.always(), hours(10))
    assert due_at(clock, Calendar.always(), hours(30)) == hours(10)


def test_business_seconds_paused_are_counted_on_the_calendar() -> None:
    policy = SlaPolicy("office", 1, PolicyMatch(), 0, Target(9 * HOUR, "office"))
    state, _ = replay(
        opened(policy),
        [
            status(2, hours(0.5), "waiting_on_user", "info_requested"),  # Monday 11:30
            status(3, hours(24), "in_progress"),  # Tuesday 11:00
        ],
    )
    resolution = state.clocks[0]
    paused = paused_seconds(resolution, OFFICE, hours(30))
    assert paused == business_seconds_between(OFFICE, hours(0.5), hours(24)) == 7.5 * HOUR
