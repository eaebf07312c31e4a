"""Timers fire on the wall clock but decide on event time (docs/sla-timing.md).

The property: whatever the broker and this process do (stalls, freezes, relay lag within
the documented bounds) and whenever the timer fires, the clocks and the events of a ticket
are those of its facts applied in event-time order. The simulation drives the real
`Watermarks` and the real domain; only Kafka and the wall clock are simulated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stopclock_shared.business_time import Calendar
from stopclock_sla.domain import (
    CommentAdded,
    Fact,
    PolicyMatch,
    SlaBreached,
    SlaEvent,
    SlaPaused,
    SlaPolicy,
    StatusChanged,
    Target,
    TicketClocks,
    TicketFacts,
    remaining_seconds,
    start_clocks,
)
from stopclock_sla.watermarks import Watermarks

GRACE = 0.5
OUTAGE = 5.0
FETCH = 0.1  # the consumer's long poll: an idle partition is answered this often
TICK = 0.1  # the sampler's period
WARM_UP = 10.0  # the service owns the partition this long before the ticket is opened
T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
CALENDARS = {"24x7": Calendar.always()}
PROPS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


def policy(first: float, resolution: float) -> SlaPolicy:
    return SlaPolicy(
        name="fast",
        version=1,
        match=PolicyMatch(),
        order=0,
        first_response=Target(first, "24x7"),
        resolution=Target(resolution, "24x7"),
        warn_at=(0.5, 0.9),
    )


def opened(rule: SlaPolicy) -> tuple[TicketClocks, tuple[SlaEvent, ...]]:
    ticket = TicketFacts(ticket_id="T-1", sequence=1, type="incident", priority="P3")
    return start_clocks(rule, CALENDARS, ticket, T0)


def seconds(at: float) -> datetime:
    return T0 + timedelta(seconds=at)


def ordered(events: list[SlaEvent]) -> list[SlaEvent]:
    return sorted(events, key=lambda e: (e.at, e.target, e.kind))


STEPS = st.sampled_from(
    [
        ("waiting_on_user", "info_requested"),
        ("in_progress", None),
        ("assigned", None),
        ("resolved", None),
        ("comment", None),
    ]
)
SPANS = st.tuples(st.floats(0, 40), st.floats(0, 25))


@dataclass(frozen=True)
class World:
    """What happened outside the sla service: when facts were made and reached Kafka, when
    the broker stalled, when this process was frozen, when its timer fired."""

    facts: list[Fact]
    appended: list[float]  # seconds after T0, in Kafka order
    stalls: list[tuple[float, float]]
    freezes: list[tuple[float, float]]
    timer_fires: list[float]


def inside(at: float, spans: list[tuple[float, float]]) -> tuple[float, float] | None:
    return next(((s, e) for s, e in spans if s <= at < e), None)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    stalls = sorted((s, s + d) for s, d in draw(st.lists(SPANS, max_size=2)))
    freezes = sorted((s, s + d) for s, d in draw(st.lists(SPANS, max_size=2)))
    facts: list[Fact] = []
    appended: list[float] = []
    at = 0.0
    for sequence, (to, reason) in enumerate(draw(st.lists(STEPS, max_size=8)), start=2):
        at += draw(st.floats(0, 8))
        when = seconds(at)
        if to == "comment":
            facts.append(CommentAdded(sequence=sequence, at=when, public=True, by_requester=False))
        else:
            facts.append(StatusChanged(sequence=sequence, at=when, to_status=to, reason=reason))
        # The documented bounds: in Kafka within the grace of its time while the broker is
        # up; after an outage longer than the grace, within the outage grace of its end.
        sent = at + draw(st.floats(0, GRACE, exclude_max=True))
        stalled = inside(sent, stalls)
        if stalled is not None:
            start, end = stalled
            long = end - start > GRACE
            sent = end + (draw(st.floats(0, OUTAGE, exclude_max=True)) if long else 0.0)
        appended.append(max(sent, appended[-1] if appended else 0.0))
    fires = draw(st.lists(st.floats(0, 90), max_size=12))
    return World(facts, appended, stalls, freezes, sorted(fires))


def answers(world: World, end: float) -> list[tuple[float, float]]:
    """(handled at, broker content as of) of the consumer's fetch answers.

    The next fetch is sent once the previous answer was handled; the broker answers every
    FETCH seconds while up. A frozen process handles the answer that arrived meanwhile only
    when it is thawed, with content as old as that answer.
    """
    found: list[tuple[float, float]] = []
    t = -WARM_UP
    while t < end:
        stalled = inside(t, world.stalls)
        if stalled is not None:
            t = stalled[1]
            continue
        frozen = inside(t, world.freezes)
        found.append((frozen[1] if frozen else t, t))
        t = (frozen[1] if frozen else t) + FETCH
    return found


def run_sla(world: World, rule: SlaPolicy) -> tuple[TicketClocks, list[SlaEvent]]:
    """The sla service's edge: facts applied as answers bring them, the sampler moving the
    mark, the timer deciding up to min(wall time, the mark); nothing runs while frozen."""
    marks = Watermarks(GRACE, OUTAGE)
    marks.own({0})
    state, first = opened(rule)
    events = list(first)
    pending = list(zip(world.facts, world.appended, strict=True))
    end = 120.0
    steps: list[tuple[float, int, float]] = [(h, 0, c) for h, c in answers(world, end)]
    ticks = [i * TICK - WARM_UP for i in range(int((end + WARM_UP) / TICK))]
    steps += [(t, 1, t) for t in ticks if inside(t, world.freezes) is None]
    steps += [(w, 2, w) for w in world.timer_fires if inside(w, world.freezes) is None]
    handled: float | None = None
    for wall, kind, content in sorted(steps):
        if kind == 0:  # an answer: its records are applied
            while pending and pending[0][1] <= content:
                state, more = state.apply(pending.pop(0)[0], CALENDARS)
                events += more
            handled = seconds(wall).timestamp()
            continue
        if kind == 1:  # the sampler
            marks.tick(seconds(wall).timestamp())
            if not marks.observe(0, handled, caught_up=True):
                continue
        mark = marks.mark(0)
        if mark is not None:
            state, more = state.fire(CALENDARS, min(seconds(wall), mark))
            events += more
            if len(events) % 3 == 0:  # a restart reloads the stored state
                state = TicketClocks.from_dict(json.loads(json.dumps(state.to_dict())))
    assert not pending, "every fact reaches the service in the end"
    state, more = state.fire(CALENDARS, seconds(end + 3600))
    return state, events + list(more)


@PROPS
@given(worlds(), st.floats(2, 30), st.floats(5, 60))
def test_the_clocks_and_events_are_those_of_the_facts_in_event_time_order(
    world: World, first: float, resolution: float
) -> None:
    rule = policy(first, resolution)
    expected, opened_events = opened(rule)
    expected_events = list(opened_events)
    for fact in world.facts:
        expected, more = expected.apply(fact, CALENDARS)
        expected_events += more
    expected, more = expected.fire(CALENDARS, seconds(120 + 3600))
    expected_events += more

    state, events = run_sla(world, rule)

    assert state == expected
    assert ordered(events) == ordered(expected_events)


@pytest.mark.parametrize(
    ("target", "paused", "appended", "stalls", "freezes"),
    [
        # the cases: a 20 s target, the ticket paused through the API at +10 s ...
        # ... the broker stalled from +5 s to +30 s; the ticket service's relay needs 2 s more
        (20.0, 10.0, 32.0, [(5.0, 30.0)], []),
        # ... this service frozen from +5 s to +30 s: on thaw its overdue timer fires at once
        (20.0, 10.0, 10.05, [], [(5.0, 30.0)]),
        # a freeze too short to be a gap: the answer handled on thaw is older than it looks
        (9.8, 9.7, 10.15, [], [(10.05, 10.45)]),
    ],
)
def test_a_pause_made_before_the_deadline_but_delivered_after_it_is_never_a_breach(
    target: float,
    paused: float,
    appended: float,
    stalls: list[tuple[float, float]],
    freezes: list[tuple[float, float]],
) -> None:
    rule = SlaPolicy("p", 1, PolicyMatch(), 0, resolution=Target(target, "24x7"), warn_at=())
    pause = StatusChanged(sequence=2, at=seconds(paused), to_status="waiting_on_user", reason="x")
    fires = [target, 10.95, 10.96, 21.0, 25.0, 30.0, 30.01, 31.0, 33.0]
    state, events = run_sla(World([pause], [appended], stalls, freezes, fires), rule)
    clock = state.clock("resolution")
    assert clock is not None
    assert clock.state == "paused"
    assert not [e for e in events if isinstance(e, SlaBreached)]


def test_a_fact_later_than_the_grace_never_makes_a_breached_clock_contradict_itself() -> None:
    """Beyond the documented bounds the breach stands; the pause is applied after it."""
    rule = SlaPolicy("p", 1, PolicyMatch(), 0, resolution=Target(20, "24x7"), warn_at=())
    state, _ = opened(rule)
    state, fired = state.fire(CALENDARS, seconds(25))  # decided: nothing was on its way
    assert [type(e) for e in fired] == [SlaBreached]
    pause = StatusChanged(sequence=2, at=seconds(10), to_status="waiting_on_user", reason="x")
    assert state.is_late(pause)
    state, events = state.apply(pause, CALENDARS)
    clock = state.clock("resolution")
    assert clock is not None
    assert clock.state == "breached"
    assert clock.breached_at == seconds(20)
    assert clock.pauses == ((seconds(20), None),)
    assert [(type(e), e.at) for e in events] == [(SlaPaused, seconds(20))]
    assert remaining_seconds(clock, CALENDARS["24x7"], seconds(40)) == 0
    assert not state.is_late(pause)  # a redelivery is ignored, not late
