from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_shared.errors import Invalid
from stopclock_ticket.domain import (
    Actor,
    Impact,
    InvalidTransition,
    Role,
    Status,
    StatusChanged,
    TicketState,
    Urgency,
    WaitingReason,
    allowed_transitions,
    open_ticket,
    requester_answered,
    transition,
)

S = Status
NOW = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=1)
AGENT = Actor("agent-1", frozenset({Role.AGENT}))

# Written out independently of the implementation: the documented lifecycle.
ALLOWED: dict[Status, set[Status]] = {
    S.NEW: {S.ASSIGNED, S.IN_PROGRESS, S.CANCELLED},
    S.ASSIGNED: {S.IN_PROGRESS, S.WAITING_ON_USER, S.CANCELLED},
    S.IN_PROGRESS: {S.WAITING_ON_USER, S.RESOLVED, S.CANCELLED},
    S.WAITING_ON_USER: {S.IN_PROGRESS, S.RESOLVED, S.CANCELLED},
    S.RESOLVED: {S.IN_PROGRESS, S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
ALL_MOVES = list(product(Status, Status))


def state_in(status: Status) -> TicketState:
    """A consistent ticket in `status`, as if it had got there by the lifecycle."""
    state = replace(open_ticket("req-1", Impact.MEDIUM, Urgency.MEDIUM), status=status)
    if status == S.WAITING_ON_USER:
        state = replace(state, waiting_reason=WaitingReason.INFO_REQUESTED, waiting_since=EARLIER)
    if status in (S.RESOLVED, S.CLOSED):
        state = replace(state, resolved_at=EARLIER, resolution="restarted the VPN gateway")
    if status == S.CLOSED:
        state = replace(state, closed_at=EARLIER)
    return state


def valid_fields(to: Status) -> tuple[str | None, str | None]:
    """The (reason, resolution) a request for `to` must carry."""
    if to == S.WAITING_ON_USER:
        return WaitingReason.USER_VALIDATION, None
    if to == S.RESOLVED:
        return None, "replaced the toner"
    return None, None


def test_allowed_transitions_match_the_documented_lifecycle() -> None:
    for status in Status:
        assert set(allowed_transitions(status)) == ALLOWED[status], status


@pytest.mark.parametrize(
    ("from_status", "to"), [m for m in ALL_MOVES if m[1] in ALLOWED[m[0]]], ids=str
)
def test_every_allowed_transition_moves_the_ticket(from_status: Status, to: Status) -> None:
    reason, resolution = valid_fields(to)
    state, events = transition(state_in(from_status), to, reason, resolution, AGENT, NOW)
    assert state.status == to
    assert events == (
        StatusChanged(
            from_status=from_status,
            to_status=to,
            reason=reason,
            note=None,
            actor_id="agent-1",
            actor_roles=(Role.AGENT,),
        ),
    )


@pytest.mark.parametrize(
    ("from_status", "to"), [m for m in ALL_MOVES if m[1] not in ALLOWED[m[0]]], ids=str
)
def test_every_other_transition_is_refused_listing_the_allowed_ones(
    from_status: Status, to: Status
) -> None:
    reason, resolution = valid_fields(to)
    with pytest.raises(InvalidTransition) as refused:
        transition(state_in(from_status), to, reason, resolution, AGENT, NOW)
    assert refused.value.from_status == from_status
    assert refused.value.to_status == to
    assert set(refused.value.allowed) == ALLOWED[from_status]


def test_closed_and_cancelled_are_final() -> None:
    assert allowed_transitions(S.CLOSED) == ()
    assert allowed_transitions(S.CANCELLED) == ()
    with pytest.raises(InvalidTransition, match="allowed: none"):
        transition(state_in(S.CLOSED), S.IN_PROGRESS, None, None, AGENT, NOW)


@pytest.mark.parametrize("reason", list(WaitingReason))
def test_waiting_on_user_records_its_reason(reason: WaitingReason) -> None:
    state, (event,) = transition(
        state_in(S.IN_PROGRESS), S.WAITING_ON_USER, reason.value, None, AGENT, NOW
    )
    assert state.waiting_reason == reason
    assert event.reason == reason


@pytest.mark.parametrize("reason", [None, "", "lunch_break", "INFO_REQUESTED"])
def test_waiting_on_user_refuses_a_missing_or_unknown_reason(reason: str | None) -> None:
    with pytest.raises(Invalid) as refused:
        transition(state_in(S.IN_PROGRESS), S.WAITING_ON_USER, reason, None, AGENT, NOW)
    assert refused.value.errors[0].field == "reason"
    assert "info_requested" in refused.value.errors[0].message


@pytest.mark.parametrize("to", [S.IN_PROGRESS, S.RESOLVED, S.CANCELLED])
def test_reason_is_refused_outside_waiting_on_user(to: Status) -> None:
    _, resolution = valid_fields(to)
    with pytest.raises(Invalid) as refused:
        transition(state_in(S.WAITING_ON_USER), to, "info_requested", resolution, AGENT, NOW)
    assert refused.value.errors[0].field == "reason"


@pytest.mark.parametrize("to", [S.IN_PROGRESS, S.RESOLVED, S.CANCELLED])
def test_leaving_waiting_on_user_clears_the_reason_and_the_wait(to: Status) -> None:
    _, resolution = valid_fields(to)
    state, _ = transition(state_in(S.WAITING_ON_USER), to, None, resolution, AGENT, NOW)
    assert (state.waiting_reason, state.waiting_since) == (None, None)


@pytest.mark.parametrize("from_status", [S.ASSIGNED, S.IN_PROGRESS])
def test_entering_waiting_on_user_starts_the_wait_at_the_transition(from_status: Status) -> None:
    state, _ = transition(
        state_in(from_status), S.WAITING_ON_USER, "user_validation", None, AGENT, NOW
    )
    assert state.waiting_since == NOW


def test_waiting_again_after_an_answer_is_a_new_wait() -> None:
    asked, _ = transition(
        state_in(S.IN_PROGRESS), S.WAITING_ON_USER, "info_requested", None, AGENT, EARLIER
    )
    answered, _ = requester_answered(asked, Actor("req-1", frozenset({Role.REQUESTER})), NOW)
    asked_again, _ = transition(
        answered, S.WAITING_ON_USER, "user_validation", None, AGENT, NOW + timedelta(hours=1)
    )
    assert (asked.waiting_since, answered.waiting_since, asked_again.waiting_since) == (
        EARLIER,
        None,
        NOW + timedelta(hours=1),
    )


@pytest.mark.parametrize("resolution", [None, "", "   \n"])
def test_resolving_requires_a_resolution_note(resolution: str | None) -> None:
    with pytest.raises(Invalid) as refused:
        transition(state_in(S.IN_PROGRESS), S.RESOLVED, None, resolution, AGENT, NOW)
    assert refused.value.errors[0].field == "resolution"


@pytest.mark.parametrize("to", [S.CLOSED, S.IN_PROGRESS])
def test_resolution_is_refused_outside_resolving(to: Status) -> None:
    with pytest.raises(Invalid) as refused:
        transition(state_in(S.RESOLVED), to, None, "another note", AGENT, NOW)
    assert refused.value.errors[0].field == "resolution"


def test_resolving_stamps_resolved_at_and_keeps_the_trimmed_resolution() -> None:
    state, _ = transition(
        state_in(S.IN_PROGRESS), S.RESOLVED, None, "  cleared the cache ", AGENT, NOW
    )
    assert (state.resolved_at, state.resolution, state.closed_at) == (
        NOW,
        "cleared the cache",
        None,
    )


def test_closing_stamps_closed_at_and_keeps_the_resolution() -> None:
    state, _ = transition(state_in(S.RESOLVED), S.CLOSED, None, None, AGENT, NOW)
    assert state.closed_at == NOW
    assert (state.resolved_at, state.resolution) == (EARLIER, "restarted the VPN gateway")


def test_reopening_clears_resolved_at_and_the_resolution() -> None:
    state, _ = transition(state_in(S.RESOLVED), S.IN_PROGRESS, None, None, AGENT, NOW)
    assert (state.status, state.resolved_at, state.resolution) == (S.IN_PROGRESS, None, None)


def test_cancelling_sets_no_resolution_timestamps() -> None:
    state, _ = transition(state_in(S.IN_PROGRESS), S.CANCELLED, None, None, AGENT, NOW)
    assert (state.resolved_at, state.closed_at, state.resolution) == (None, None, None)


def test_a_transition_never_bumps_the_version() -> None:
    state, _ = transition(state_in(S.NEW), S.ASSIGNED, None, None, AGENT, NOW)
    assert state.version == state_in(S.NEW).version


def test_the_note_travels_on_the_event_trimmed_and_blank_means_none() -> None:
    _, (asked,) = transition(
        state_in(S.IN_PROGRESS),
        S.WAITING_ON_USER,
        "info_requested",
        None,
        AGENT,
        NOW,
        note=" Which printer? ",
    )
    _, (blank,) = transition(state_in(S.NEW), S.ASSIGNED, None, None, AGENT, NOW, note="  ")
    assert (asked.note, blank.note) == ("Which printer?", None)


def test_a_service_actor_resolves_a_waiting_ticket_for_lack_of_response() -> None:
    service = Actor("escalation", frozenset({Role.SERVICE}))
    state, (event,) = transition(
        state_in(S.WAITING_ON_USER),
        S.RESOLVED,
        None,
        "no response",
        service,
        NOW,
        note="no_response",
    )
    assert (state.status, event.note, event.actor_roles) == (
        S.RESOLVED,
        "no_response",
        (Role.SERVICE,),
    )


def test_an_unknown_target_status_is_a_field_error() -> None:
    with pytest.raises(Invalid) as refused:
        transition(state_in(S.NEW), "done", None, None, AGENT, NOW)  # type: ignore[arg-type]
    assert refused.value.errors[0].field == "to"


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        transition(state_in(S.NEW), S.ASSIGNED, None, None, AGENT, NOW.replace(tzinfo=None))


def test_timestamps_keep_the_offset_they_were_given() -> None:
    paris = datetime(2025, 3, 4, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    state, _ = transition(state_in(S.IN_PROGRESS), S.RESOLVED, None, "fixed", AGENT, paris)
    assert state.resolved_at == NOW  # same instant...
    assert state.resolved_at is paris  # ...left as given: the edge decides the wire form


def assert_consistent(state: TicketState) -> None:
    assert (state.waiting_reason is not None) == (state.status == S.WAITING_ON_USER)
    assert (state.waiting_since is not None) == (state.status == S.WAITING_ON_USER)
    assert (state.resolved_at is not None) == (state.status in (S.RESOLVED, S.CLOSED))
    assert (state.resolution is not None) == (state.status in (S.RESOLVED, S.CLOSED))
    assert (state.closed_at is not None) == (state.status == S.CLOSED)


@settings(deadline=None, max_examples=200)
@given(
    choices=st.lists(st.integers(min_value=0, max_value=5), max_size=25),
    steps=st.lists(st.integers(min_value=0, max_value=10**6), min_size=25, max_size=25),
)
def test_any_walk_through_the_lifecycle_keeps_the_fields_consistent(
    choices: list[int], steps: list[int]
) -> None:
    state, now = open_ticket("req-1", Impact.LOW, Urgency.HIGH), NOW
    for choice, step in zip(choices, steps, strict=False):
        options = allowed_transitions(state.status)
        if not options:
            break
        to = options[choice % len(options)]
        now += timedelta(seconds=step)
        reason, resolution = valid_fields(to)
        before = state
        state, _ = transition(state, to, reason, resolution, AGENT, now)
        assert_consistent(state)
        if to == S.RESOLVED:
            assert state.resolved_at == now
        if to == S.CLOSED:
            assert state.closed_at == now >= (state.resolved_at or now)
        if to == S.WAITING_ON_USER:
            assert state.waiting_since == now  # every wait is a new one
        assert (state.priority, state.requester_id) == (before.priority, before.requester_id)
