"""The ticket state machine (ARCHITECTURE.md, "Ticket lifecycle").

    new              -> assigned, in_progress, cancelled
    assigned         -> in_progress, waiting_on_user, cancelled
    in_progress      -> waiting_on_user, resolved, cancelled
    waiting_on_user  -> in_progress, resolved, cancelled
    resolved         -> in_progress (reopen), closed
    closed, cancelled: final

Choices beyond the handbook, from common ITSM practice:
- new → in_progress: an agent picks a ticket up without a separate assign step.
- assigned → waiting_on_user: the assignee asks for information before starting.
- waiting_on_user → resolved: resolving while waiting (the user confirmed, or the
  escalation service resolves for lack of response).
- No move to the same status, and no shortcut from new/assigned to resolved:
  the work that resolves a ticket goes through in_progress.
- closed and cancelled are final.
"""

from dataclasses import replace
from datetime import datetime

from stopclock_shared.errors import Forbidden, Invalid
from stopclock_shared.events.vocabulary import REQUESTER_ANSWERED, ResolveReason
from stopclock_ticket.domain.errors import InvalidTransition
from stopclock_ticket.domain.events import StatusChanged
from stopclock_ticket.domain.permissions import Actor, may_transition
from stopclock_ticket.domain.state import TicketState
from stopclock_ticket.domain.vocabulary import Status, Visibility, WaitingReason

_S = Status
_TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    _S.NEW: (_S.ASSIGNED, _S.IN_PROGRESS, _S.CANCELLED),
    _S.ASSIGNED: (_S.IN_PROGRESS, _S.WAITING_ON_USER, _S.CANCELLED),
    _S.IN_PROGRESS: (_S.WAITING_ON_USER, _S.RESOLVED, _S.CANCELLED),
    _S.WAITING_ON_USER: (_S.IN_PROGRESS, _S.RESOLVED, _S.CANCELLED),
    _S.RESOLVED: (_S.IN_PROGRESS, _S.CLOSED),
    _S.CLOSED: (),
    _S.CANCELLED: (),
}
# No move out of these; a ticket is open until it is resolved or final.
FINAL_STATUSES = frozenset(s for s, moves in _TRANSITIONS.items() if not moves)
OPEN_STATUSES = frozenset(Status) - FINAL_STATUSES - {Status.RESOLVED}
_WAITING_REASONS = ", ".join(WaitingReason)


def allowed_transitions(status: Status) -> tuple[Status, ...]:
    """Statuses reachable in one move from `status`, in lifecycle order."""
    return _TRANSITIONS[Status(status)]


def transition(
    state: TicketState,
    to: Status,
    reason: str | None,
    resolution: str | None,
    actor: Actor,
    now: datetime,
    note: str | None = None,
) -> tuple[TicketState, tuple[StatusChanged, ...]]:
    """Move the ticket to `to` on behalf of `actor` at `now`.

    Checks in this order: permission (Forbidden), lifecycle (InvalidTransition),
    fields (Invalid). `reason` is accepted only when entering waiting_on_user,
    where it is required; `resolution` is accepted only when resolving, where it
    is required and non-blank. Commands that carry their own reason (e.g.
    `no_response`) pass it as `note`.
    """
    _require_aware(now)
    from_status = state.status
    to = _parse_status(to)
    if not may_transition(actor, state.requester_id, from_status, to):
        raise Forbidden(f"not allowed to move this ticket from {from_status} to {to}")
    allowed = allowed_transitions(from_status)
    if to not in allowed:
        raise InvalidTransition(from_status, to, allowed)
    waiting_reason = _check_reason(to, reason)
    resolution = _check_resolution(to, resolution)

    resolved_at, kept_resolution = _resolution_facts(state, to, resolution, now)
    new_state = replace(
        state,
        status=to,
        waiting_reason=waiting_reason,
        resolved_at=resolved_at,
        resolution=kept_resolution,
        closed_at=now if to == Status.CLOSED else state.closed_at,
        # Every entry into waiting_on_user is a new wait; leaving it ends the wait.
        waiting_since=now if to == Status.WAITING_ON_USER else None,
    )
    event = StatusChanged(
        from_status=from_status,
        to_status=to,
        reason=waiting_reason,
        note=(note.strip() or None) if note is not None else None,
        actor_id=actor.id,
        actor_roles=tuple(sorted(actor.roles)),
    )
    return new_state, (event,)


def requester_comment_answers(
    status: Status, visibility: Visibility, author_is_requester: bool
) -> bool:
    """True when this comment is the requester's answer that ends a wait."""
    return (
        status == Status.WAITING_ON_USER and visibility == Visibility.PUBLIC and author_is_requester
    )


def requester_comment_reopens(
    status: Status,
    resolution_reason: str | None,
    visibility: Visibility,
    author_is_requester: bool,
) -> bool:
    """True when this comment reopens a ticket resolved for lack of response: the requester
    did answer after all. Other resolutions stand (a reopen is asked for explicitly)."""
    return (
        status == Status.RESOLVED
        and resolution_reason == ResolveReason.NO_RESPONSE
        and visibility == Visibility.PUBLIC
        and author_is_requester
    )


def requester_answered(
    state: TicketState, actor: Actor, now: datetime
) -> tuple[TicketState, tuple[StatusChanged, ...]]:
    """Move a waiting ticket back to in_progress because its requester answered.

    Call it when `requester_comment_answers` holds, in the same write as the
    comment. The requester may not make this move by a transition request.
    """
    _require_aware(now)
    if actor.id != state.requester_id:
        raise Forbidden("only the requester answers a waiting ticket")
    if state.status != Status.WAITING_ON_USER:
        raise InvalidTransition(state.status, Status.IN_PROGRESS, allowed_transitions(state.status))
    new_state = replace(state, status=Status.IN_PROGRESS, waiting_reason=None, waiting_since=None)
    event = StatusChanged(
        from_status=state.status,
        to_status=Status.IN_PROGRESS,
        reason=REQUESTER_ANSWERED,
        note=None,
        actor_id=actor.id,
        actor_roles=tuple(sorted(actor.roles)),
    )
    return new_state, (event,)


def _parse_status(value: str) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise Invalid.field("to", f"unknown status {value!r}") from None


def _check_reason(to: Status, reason: str | None) -> WaitingReason | None:
    if to != Status.WAITING_ON_USER:
        if reason is not None:
            raise Invalid.field("reason", "only allowed when moving to waiting_on_user")
        return None
    if reason is None:
        raise Invalid.field("reason", f"required for waiting_on_user: one of {_WAITING_REASONS}")
    try:
        return WaitingReason(reason)
    except ValueError:
        raise Invalid.field(
            "reason", f"unknown reason {reason!r}: one of {_WAITING_REASONS}"
        ) from None


def _check_resolution(to: Status, resolution: str | None) -> str | None:
    if to != Status.RESOLVED:
        if resolution is not None:
            raise Invalid.field("resolution", "only allowed when moving to resolved")
        return None
    if resolution is None or not resolution.strip():
        raise Invalid.field("resolution", "a resolution note is required to resolve")
    return resolution.strip()


def _resolution_facts(
    state: TicketState, to: Status, resolution: str | None, now: datetime
) -> tuple[datetime | None, str | None]:
    if to == Status.RESOLVED:
        return now, resolution
    if to == Status.CLOSED:
        return state.resolved_at, state.resolution
    # Any other move out of resolved is a reopen: the resolution did not hold, so
    # it is forgotten here (the history keeps it).
    return None, None


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
