"""Properties of SLA clocks: replays are deterministic and pauses are exact."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stopclock_shared.business_time import Calendar, business_us_between, to_us
from stopclock_sla.domain import (
    CommentAdded,
    Fact,
    PolicyMatch,
    PriorityChanged,
    SlaEvent,
    SlaPolicy,
    StatusChanged,
    Target,
    TicketClocks,
    TicketFacts,
    due_at,
    match_policy,
    remaining_seconds,
    start_clocks,
)
from stopclock_sla.domain.clock import new_clock, pause, resume

HOUR = 3600
T0 = datetime(2026, 3, 20, 8, 17, tzinfo=UTC)  # a week before the Paris DST change
OFFICE = Calendar.weekly(
    "office", "Europe/Paris", {d: [("09:00", "12:00"), ("13:00", "18:00")] for d in range(5)}
)
CALENDARS = {"24x7": Calendar.always(), "office": OFFICE}
POLICIES = [
    SlaPolicy(
        name="p1",
        version=1,
        match=PolicyMatch(priority="P1"),
        order=10,
        first_response=Target(HOUR, "24x7", pause_reasons=("info_requested",)),
        resolution=Target(8 * HOUR, "office"),
        warn_at=(0.5, 0.8),
    ),
    SlaPolicy(
        name="p3",
        version=4,
        match=PolicyMatch(priority="P3"),
        order=30,
        first_response=Target(8 * HOUR, "office"),
        resolution=Target(27 * HOUR, "office"),
        pause_statuses=("waiting_on_user", "assigned"),
    ),
    SlaPolicy(
        name="p4",
        version=1,
        match=PolicyMatch(priority="P4"),
        order=40,
        resolution=Target(3 * 86_400, "24x7"),
    ),
]
PROPS = settings(deadline=None, max_examples=120, suppress_health_check=[HealthCheck.too_slow])

STEPS = st.sampled_from(
    [
        ("status", "assigned", None),
        ("status", "in_progress", None),
        ("status", "waiting_on_user", "info_requested"),
        ("status", "waiting_on_user", "user_validation"),
        ("status", "waiting_on_user", "user_response"),
        ("status", "resolved", None),
        ("status", "closed", None),
        ("status", "cancelled", None),
        ("comment", "agent", None),
        ("comment", "requester", None),
        ("priority", "P1", None),
        ("priority", "P3", None),
        ("priority", "P4", None),
    ]
)
GAPS = st.integers(0, 3 * 86_400 * 10**6).map(lambda us: timedelta(microseconds=us))


def to_fact(step: tuple[str, str, str | None], sequence: int, at: datetime) -> Fact:
    kind, value, reason = step
    if kind == "status":
        return StatusChanged(sequence=sequence, at=at, to_status=value, reason=reason)
    if kind == "comment":
        return CommentAdded(
            sequence=sequence, at=at, public=True, by_requester=value == "requester"
        )
    policy = match_policy(POLICIES, "incident", value, None)
    return PriorityChanged(sequence=sequence, at=at, priority=value, policy=policy)


@st.composite
def histories(draw: st.DrawFn) -> list[Fact]:
    steps = draw(st.lists(STEPS, max_size=12))
    at = T0
    facts = []
    for sequence, step in enumerate(steps, start=2):
        at += draw(GAPS)
        facts.append(to_fact(step, sequence, at))
    return facts


def opened(priority: str) -> tuple[TicketClocks, tuple[SlaEvent, ...]]:
    facts = TicketFacts(ticket_id="T-9", sequence=1, type="incident", priority=priority)
    return start_clocks(match_policy(POLICIES, "incident", priority, None), CALENDARS, facts, T0)


def ordered(events: list[SlaEvent]) -> list[SlaEvent]:
    return sorted(events, key=lambda e: (e.at, e.target, e.kind))


@PROPS
@given(st.sampled_from(["P1", "P3", "P4"]), histories(), st.data())
def test_a_replay_with_duplicates_and_late_timers_gives_the_same_clocks(
    priority: str, facts: list[Fact], data: st.DataObject
) -> None:
    end = (facts[-1].at if facts else T0) + timedelta(days=30)

    plain, first = opened(priority)
    plain_events = list(first)
    for fact in facts:
        plain, events = plain.apply(fact, CALENDARS)
        plain_events += events
    plain, events = plain.fire(CALENDARS, end)
    plain_events += events

    noisy, first = opened(priority)
    noisy_events = list(first)
    previous = T0
    for i, fact in enumerate(facts):
        # a timer that fires late, anywhere before the next fact happened
        if data.draw(st.booleans()):
            lag = data.draw(st.floats(0, 1))
            noisy, events = noisy.fire(CALENDARS, previous + (fact.at - previous) * lag)
            noisy_events += events
        noisy, events = noisy.apply(fact, CALENDARS)
        noisy_events += events
        # redelivery of this or any earlier fact
        for again in data.draw(st.lists(st.sampled_from(facts[: i + 1]), max_size=2)):
            noisy, events = noisy.apply(again, CALENDARS)
            assert events == ()
        if data.draw(st.booleans()):
            noisy = TicketClocks.from_dict(json.loads(json.dumps(noisy.to_dict())))
        previous = fact.at
    noisy, events = noisy.fire(CALENDARS, end)
    noisy_events += events

    assert noisy == plain
    assert ordered(noisy_events) == ordered(plain_events)


@st.composite
def pause_spans(draw: st.DrawFn) -> tuple[datetime, datetime, datetime]:
    paused = T0 + draw(st.integers(0, 20 * HOUR * 10**6).map(lambda us: timedelta(microseconds=us)))
    answered = paused + draw(GAPS)
    read = answered + draw(GAPS)
    return paused, answered, read


def office_clock(seconds: float) -> tuple[SlaPolicy, Calendar]:
    policy = SlaPolicy("p", 1, PolicyMatch(), 0, Target(seconds, "office"))
    return policy, OFFICE


@PROPS
@given(pause_spans(), st.integers(HOUR, 60 * HOUR))
def test_a_pause_of_any_length_never_changes_remaining_business_time(
    span: tuple[datetime, datetime, datetime], seconds: int
) -> None:
    paused_at, answered_at, _ = span
    policy, cal = office_clock(seconds)
    clock = new_clock("T", policy, "resolution", T0)
    left_before = remaining_seconds(clock, cal, paused_at)
    clock, _ = pause(clock, cal, paused_at)
    assert remaining_seconds(clock, cal, answered_at) == left_before
    clock, _ = resume(clock, cal, answered_at)
    assert remaining_seconds(clock, cal, answered_at) == left_before


@PROPS
@given(pause_spans(), st.integers(HOUR, 60 * HOUR))
def test_resuming_moves_the_deadline_by_exactly_the_business_time_paused(
    span: tuple[datetime, datetime, datetime], seconds: int
) -> None:
    paused_at, answered_at, read_at = span
    policy, cal = office_clock(seconds)
    clock = new_clock("T", policy, "resolution", T0)
    before = due_at(clock, cal, paused_at)
    clock, _ = pause(clock, cal, paused_at)
    clock, _ = resume(clock, cal, answered_at)
    after = due_at(clock, cal, read_at)
    if before > paused_at:  # otherwise the clock had breached before the pause
        moved = business_us_between(cal, to_us(before), to_us(after))
        assert moved == business_us_between(cal, to_us(paused_at), to_us(answered_at))
    else:
        assert after == before
