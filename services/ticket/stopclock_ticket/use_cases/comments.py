"""Comments and history: who said what on a ticket, and every change."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from stopclock_shared.auth import Principal
from stopclock_shared.errors import Forbidden
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.types import EventType
from stopclock_shared.events.vocabulary import Channel, NoteKind
from stopclock_shared.unit_of_work import UnitOfWork

from ..domain import (
    REQUESTER_ANSWERED,
    Actor,
    Status,
    Visibility,
    may_comment,
    may_see_comment,
    requester_answered,
    requester_comment_answers,
    requester_comment_reopens,
    transition,
)
from ..records import CommentRecord, HistoryRecord, TicketRecord
from ..repository import After, HistoryEntry, TicketRepository
from ..schemas import CommentIn
from .people import actor_of
from .tickets import acted_on, apply_transition, emit_ticket_event, ticket_state, visible_ticket


async def add_comment(
    uow: UnitOfWork[TicketRepository],
    principal: Principal,
    ticket_id: uuid.UUID,
    body: CommentIn,
    now: datetime,
) -> CommentRecord:
    """A comment through the API; a requester writes public ones on their own ticket."""
    ticket, actor = await acted_on(uow, principal, ticket_id)
    visibility = Visibility(body.visibility)
    if not may_comment(actor, ticket["requester_id"], visibility):
        raise Forbidden("Requesters may only add public comments")
    return await record_comment(uow, ticket, actor, body.body, visibility, now)


async def record_comment(
    uow: UnitOfWork[TicketRepository],
    ticket: TicketRecord,
    actor: Actor,
    text: str,
    visibility: Visibility,
    now: datetime,
    *,
    channel: Channel = Channel.API,
    note_kind: NoteKind | None = None,
    cause: Envelope | None = None,
) -> CommentRecord:
    """The one comment path (API, mail, answer page): the comment, and the requester's
    answer rules (a wait ends; a ticket resolved for lack of response reopens)."""
    ticket_id = ticket["id"]
    comment = await uow.repo.insert_comment(
        {
            "id": uuid.uuid4(),
            "ticket_id": ticket_id,
            "body": text,
            "visibility": visibility.value,
            "author_id": actor.id,
            "created_at": now,
            "channel": channel.value,
            "note_kind": note_kind.value if note_kind else None,
        }
    )
    by_requester = actor.id == ticket["requester_id"]
    updated = await uow.repo.update_ticket(ticket_id, {"updated_at": now})
    change = {
        "comment_id": str(comment["id"]),
        "visibility": visibility.value,
        "channel": channel.value,
    }
    if note_kind is not None:
        change["note_kind"] = note_kind.value
    internal = visibility == Visibility.INTERNAL
    entry = HistoryEntry(
        ticket_id, updated["version"], "commented", actor.id, change, now, internal
    )
    await uow.repo.add_history(entry)
    said = {
        "id": str(comment["id"]),
        "body": comment["body"],
        "visibility": comment["visibility"],
        "author_id": actor.id,
        "author_is_requester": by_requester,
        "created_at": now.isoformat(),
        "channel": comment["channel"],
        "note_kind": comment["note_kind"],
    }
    await emit_ticket_event(
        uow, EventType.TICKET_COMMENTED, updated, now, {"comment": said}, cause=cause
    )
    state = ticket_state(updated)
    if requester_comment_answers(state.status, visibility, by_requester):
        new_state, (event,) = requester_answered(state, actor, now)
        await apply_transition(
            uow, updated, new_state, updated["status"], event.reason, None, actor, now, cause=cause
        )
    elif requester_comment_reopens(
        state.status, updated["resolution_reason"], visibility, by_requester
    ):
        # Resolved for lack of response: the requester's answer reopens it.
        new_state, _ = transition(state, Status.IN_PROGRESS, None, None, actor, now)
        await apply_transition(
            uow,
            updated,
            new_state,
            Status.RESOLVED,
            REQUESTER_ANSWERED,
            None,
            actor,
            now,
            cause=cause,
        )
    return comment


async def list_comments(
    uow: UnitOfWork[TicketRepository],
    principal: Principal,
    ticket_id: uuid.UUID,
    limit: int,
    after: After | None,
) -> Sequence[CommentRecord]:
    """A ticket's comments; requesters never see internal ones."""
    await visible_ticket(uow, principal, ticket_id)
    public_only = not may_see_comment(actor_of(principal), Visibility.INTERNAL)
    return await uow.repo.list_comments(ticket_id, public_only, limit, after)


async def list_history(
    uow: UnitOfWork[TicketRepository], principal: Principal, ticket_id: uuid.UUID
) -> Sequence[HistoryRecord]:
    """Every change of a ticket: who, what, when (internal entries for staff only)."""
    await visible_ticket(uow, principal, ticket_id)
    return await uow.repo.list_history(ticket_id, include_internal=principal.is_staff)
