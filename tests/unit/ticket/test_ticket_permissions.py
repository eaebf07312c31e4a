from dataclasses import replace
from datetime import UTC, datetime
from itertools import product

import pytest

from stopclock_shared.errors import Forbidden
from stopclock_ticket.domain import (
    REQUESTER_ANSWERED,
    Actor,
    Impact,
    InvalidTransition,
    Role,
    Status,
    StatusChanged,
    TicketState,
    Urgency,
    Visibility,
    WaitingReason,
    allowed_transitions,
    may_act_for,
    may_comment,
    may_see_comment,
    may_see_ticket,
    may_transition,
    open_ticket,
    requester_answered,
    requester_comment_answers,
    transition,
)

S = Status
NOW = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
OWNER = Actor("req-1", frozenset({Role.REQUESTER}))
STRANGER = Actor("req-2", frozenset({Role.REQUESTER}))
STAFF = [Actor(f"{role}-1", frozenset({role})) for role in Role if role != Role.REQUESTER]
OPEN = [S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_ON_USER]


def state_in(status: Status) -> TicketState:
    state = replace(open_ticket("req-1", Impact.LOW, Urgency.LOW), status=status)
    if status == S.WAITING_ON_USER:
        return replace(state, waiting_reason=WaitingReason.USER_RESPONSE)
    if status == S.RESOLVED:
        return replace(state, resolved_at=NOW, resolution="done")
    return state


@pytest.mark.parametrize(("actor", "move"), list(product(STAFF, product(Status, Status))), ids=str)
def test_staff_may_ask_for_any_move(actor: Actor, move: tuple[Status, Status]) -> None:
    assert may_transition(actor, "req-1", *move)


@pytest.mark.parametrize(("from_status", "to"), list(product(Status, Status)), ids=str)
def test_a_requester_may_only_cancel_or_reopen_their_own_ticket(
    from_status: Status, to: Status
) -> None:
    expected = to == S.CANCELLED or (from_status, to) == (S.RESOLVED, S.IN_PROGRESS)
    assert may_transition(OWNER, "req-1", from_status, to) == expected
    assert not may_transition(STRANGER, "req-1", from_status, to)


@pytest.mark.parametrize("from_status", OPEN)
def test_a_requester_cancels_their_own_open_ticket(from_status: Status) -> None:
    state, (event,) = transition(state_in(from_status), S.CANCELLED, None, None, OWNER, NOW)
    assert state.status == S.CANCELLED
    assert (event.actor_id, event.actor_roles) == ("req-1", (Role.REQUESTER,))


def test_a_requester_cannot_cancel_a_resolved_ticket() -> None:
    with pytest.raises(InvalidTransition):
        transition(state_in(S.RESOLVED), S.CANCELLED, None, None, OWNER, NOW)


def test_a_requester_reopens_their_own_resolved_ticket() -> None:
    state, _ = transition(state_in(S.RESOLVED), S.IN_PROGRESS, None, None, OWNER, NOW)
    assert (state.status, state.resolved_at) == (S.IN_PROGRESS, None)


@pytest.mark.parametrize(
    ("from_status", "to"),
    [
        (S.NEW, S.ASSIGNED),
        (S.IN_PROGRESS, S.RESOLVED),
        (S.RESOLVED, S.CLOSED),
        (S.WAITING_ON_USER, S.IN_PROGRESS),
        (S.ASSIGNED, S.WAITING_ON_USER),
    ],
)
def test_a_requester_is_forbidden_the_agents_moves(from_status: Status, to: Status) -> None:
    reason = "info_requested" if to == S.WAITING_ON_USER else None
    resolution = "done" if to == S.RESOLVED else None
    with pytest.raises(Forbidden):
        transition(state_in(from_status), to, reason, resolution, OWNER, NOW)


def test_a_requester_is_forbidden_to_touch_someone_elses_ticket() -> None:
    with pytest.raises(Forbidden):
        transition(state_in(S.NEW), S.CANCELLED, None, None, STRANGER, NOW)


def test_a_requester_holding_a_staff_role_acts_as_staff() -> None:
    both = Actor("req-2", frozenset({Role.REQUESTER, Role.AGENT}))
    state, (event,) = transition(state_in(S.IN_PROGRESS), S.RESOLVED, None, "ok", both, NOW)
    assert state.status == S.RESOLVED
    assert event.actor_roles == (Role.AGENT, Role.REQUESTER)


@pytest.mark.parametrize(
    ("actor", "visibility", "expected"),
    [
        (OWNER, Visibility.PUBLIC, True),
        (OWNER, Visibility.INTERNAL, False),
        (STRANGER, Visibility.PUBLIC, False),
        (STRANGER, Visibility.INTERNAL, False),
        *[(staff, v, True) for staff in STAFF for v in Visibility],
    ],
    ids=str,
)
def test_who_may_comment(actor: Actor, visibility: Visibility, expected: bool) -> None:
    assert may_comment(actor, "req-1", visibility) == expected


def test_requesters_see_their_own_tickets_and_public_comments_only() -> None:
    assert may_see_ticket(OWNER, "req-1")
    assert not may_see_ticket(STRANGER, "req-1")
    assert all(may_see_ticket(staff, "req-1") for staff in STAFF)
    assert may_see_comment(OWNER, Visibility.PUBLIC)
    assert not may_see_comment(OWNER, Visibility.INTERNAL)
    assert all(may_see_comment(staff, Visibility.INTERNAL) for staff in STAFF)


@pytest.mark.parametrize(
    ("status", "visibility", "author_is_requester"),
    list(product(Status, Visibility, [True, False])),
    ids=str,
)
def test_only_a_public_requester_comment_while_waiting_is_an_answer(
    status: Status, visibility: Visibility, author_is_requester: bool
) -> None:
    expected = (status, visibility, author_is_requester) == (
        S.WAITING_ON_USER,
        Visibility.PUBLIC,
        True,
    )
    assert requester_comment_answers(status, visibility, author_is_requester) == expected


def test_the_requesters_answer_moves_the_ticket_back_to_in_progress() -> None:
    state, events = requester_answered(state_in(S.WAITING_ON_USER), OWNER, NOW)
    assert (state.status, state.waiting_reason) == (S.IN_PROGRESS, None)
    assert events == (
        StatusChanged(
            from_status=S.WAITING_ON_USER,
            to_status=S.IN_PROGRESS,
            reason=REQUESTER_ANSWERED,
            note=None,
            actor_id="req-1",
            actor_roles=(Role.REQUESTER,),
        ),
    )


def test_only_the_requester_answers_a_waiting_ticket() -> None:
    with pytest.raises(Forbidden):
        requester_answered(state_in(S.WAITING_ON_USER), STAFF[0], NOW)


@pytest.mark.parametrize("status", [s for s in Status if s != S.WAITING_ON_USER])
def test_an_answer_to_a_ticket_not_waiting_is_refused(status: Status) -> None:
    with pytest.raises(InvalidTransition) as refused:
        requester_answered(state_in(status), OWNER, NOW)
    assert refused.value.allowed == allowed_transitions(status)


@pytest.mark.parametrize(
    ("actor", "person_id", "expected"),
    [
        (OWNER, "req-1", True),
        (OWNER, "req-2", False),
        (STRANGER, "req-1", False),
        *[(staff, "anyone", True) for staff in STAFF],
    ],
    ids=str,
)
def test_staff_act_for_anyone_and_anyone_else_for_themselves(
    actor: Actor, person_id: str, expected: bool
) -> None:
    assert may_act_for(actor, person_id) is expected
