"""Replay at the edge: the same ticket events, in order, again with duplicates, late timers
and trips through the database's JSON form, give the same clocks and the same SLA events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sla_edge_builders import (
    commented,
    created,
    priority_changed,
    snapshot,
    status_changed,
    ticket_of,
)

from stopclock_shared.business_time import Calendar
from stopclock_shared.events.envelope import Envelope
from stopclock_sla.domain import (
    Fact,
    PolicyMatch,
    SlaEvent,
    SlaPolicy,
    Target,
    TicketClocks,
    match_policy,
    start_clocks,
)
from stopclock_sla.events import sla_envelope
from stopclock_sla.facts_from_events import (
    comment_fact,
    created_facts,
    priority_fact,
    status_fact,
)

T0 = datetime(2026, 3, 27, 16, 5, tzinfo=UTC)  # a Friday before the Paris DST change
OFFICE = Calendar.weekly("office@2", "Europe/Paris", {d: [("09:00", "18:00")] for d in range(5)})
TICKET = ticket_of(snapshot(1, T0))
CALENDARS = {"24x7@1": Calendar.always(), "office@2": OFFICE}
POLICIES = [
    SlaPolicy(
        "p1",
        1,
        PolicyMatch(priority="P1"),
        1,
        first_response=Target(1800, "24x7@1"),
        resolution=Target(4 * 3600, "office@2"),
    ),
    SlaPolicy(
        "p3",
        1,
        PolicyMatch(priority="P3"),
        3,
        first_response=Target(4 * 3600, "office@2", ("info_requested",)),
        resolution=Target(20 * 3600, "office@2"),
        warn_at=(0.5, 0.9),
    ),
]
STEPS = st.sampled_from(
    [
        ("status", "assigned", None),
        ("status", "in_progress", None),
        ("status", "waiting_on_user", "info_requested"),
        ("status", "waiting_on_user", "user_validation"),
        ("status", "resolved", None),
        ("status", "cancelled", None),
        ("comment", "agent", None),
        ("comment", "requester", None),
        ("priority", "P1", None),
        ("priority", "P3", None),
    ]
)
GAPS = st.integers(0, 2 * 86_400).map(lambda s: timedelta(seconds=s))
Event = tuple[Envelope, Any]


def edge_fact(env: Envelope, data: Any) -> Fact:
    """What the consumer does with each event type (policy matching included)."""
    kind = env.type.split(".")[2]
    if kind == "status_changed":
        return status_fact(env, data)
    if kind == "commented":
        return comment_fact(env, data)
    t = data.ticket
    policy = match_policy(POLICIES, t.type, data.to_priority, t.service)
    return priority_fact(env, t, data.to_priority, policy)


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    at = T0
    out: list[Event] = [created(at)]
    for version, (kind, value, reason) in enumerate(draw(st.lists(STEPS, max_size=10)), start=2):
        at += draw(GAPS)
        if kind == "status":
            out.append(status_changed(at, version, value, reason))
        elif kind == "comment":
            out.append(commented(at, version, public=True, by_requester=value == "requester"))
        else:
            out.append(priority_changed(at, version, value))
    return out


def start(env: Envelope, data: Any) -> tuple[TicketClocks, list[SlaEvent]]:
    policy = match_policy(POLICIES, data.ticket.type, data.ticket.priority, data.ticket.service)
    state, events = start_clocks(policy, CALENDARS, created_facts(env, data.ticket), env.time)
    return state, list(events)


def through_the_database(state: TicketClocks) -> TicketClocks:
    return TicketClocks.from_dict(json.loads(json.dumps(state.to_dict())))


def published(events: list[SlaEvent]) -> list[tuple[str, str, datetime, Any]]:
    out = []
    for e in events:
        env = sla_envelope(e, TICKET)
        if env is not None:
            out.append((env.type, e.target, env.time, env.data.get("fraction")))
    return sorted(out)


@settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.data())
def test_replaying_ticket_events_with_duplicates_and_late_timers_gives_the_same_clocks(
    history: list[Event], data: st.DataObject
) -> None:
    end = history[-1][0].time + timedelta(days=30)

    plain, plain_events = start(*history[0])
    for env, payload in history[1:]:
        plain, more = plain.apply(edge_fact(env, payload), CALENDARS)
        plain_events += more
    plain, more = plain.fire(CALENDARS, end)
    plain_events += more

    noisy, noisy_events = start(*history[0])
    previous = history[0][0].time
    for i, (env, payload) in enumerate(history[1:], start=1):
        if data.draw(st.booleans()):  # a timer woke up late, before this event was consumed
            lag = data.draw(st.floats(0, 1))
            noisy, more = noisy.fire(CALENDARS, previous + (env.time - previous) * lag)
            noisy_events += more
        noisy, more = noisy.apply(edge_fact(env, payload), CALENDARS)
        noisy_events += more
        noisy = through_the_database(noisy)
        for again in data.draw(st.lists(st.sampled_from(history[1 : i + 1]), max_size=2)):
            noisy, more = noisy.apply(edge_fact(*again), CALENDARS)
            assert more == ()  # a redelivered event changes nothing
        previous = env.time
    noisy, more = noisy.fire(CALENDARS, end)
    noisy_events += more

    assert noisy == plain
    assert published(noisy_events) == published(plain_events)
