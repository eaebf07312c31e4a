"""What other services ask of the ticket service (``tickets.commands``).

A command naming a ticket (or requester) that does not exist is an error of the message:
the `LookupError` (or `ValueError`) raised here dead-letters it with its text.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from stopclock_shared.errors import DomainError
from stopclock_shared.events.commands import (
    CommentCommand,
    OpenTicketCommand,
    ReopenCommand,
    ResolveCommand,
)
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.vocabulary import ResolveReason
from stopclock_shared.unit_of_work import UnitOfWork

from ..domain import (
    Actor,
    Level,
    Role,
    Status,
    TicketType,
    Visibility,
    comment_author,
    fit,
    requester_actor,
    resolve_refusal,
    transition,
)
from ..records import CommentRecord, TicketRecord
from ..repository import HistoryEntry, TicketRepository
from ..schemas import COMMENT_MAX, DESCRIPTION_MAX, TITLE_MAX, TicketCreate
from .comments import record_comment
from .tickets import apply_transition, create, ticket_state

SYSTEM = Actor(sub="system", roles=frozenset({Role.SERVICE}))


async def open_by_command(
    uow: UnitOfWork[TicketRepository], command: OpenTicketCommand, now: datetime, cause: Envelope
) -> TicketRecord | None:
    """Open the ticket a mail asks for, under the id the sender chose: every delivery of the
    command (even re-sent under another event id) opens one ticket and emits one event.
    None when it was opened already. An unknown requester raises `UnknownRequester`."""
    ticket_id = uuid.UUID(command.ticket_id)
    # Deliveries on other partitions wait here for the first one's commit, then find it.
    await uow.repo.lock_ticket_id(ticket_id)
    existing = await uow.repo.get_ticket(ticket_id)
    if existing is not None:
        if existing["requester_id"] != command.requester_id:
            raise ValueError(
                f"ticket {ticket_id} already exists for requester {existing['requester_id']!r},"
                f" not {command.requester_id!r}; the command reuses another ticket's id"
            )
        return None
    body = TicketCreate(
        type=TicketType(command.type),
        title=fit(command.title, TITLE_MAX, "(no subject)"),
        description=fit(command.description, DESCRIPTION_MAX, "(no text)"),
        requester_id=command.requester_id,
        impact=Level(command.impact),
        urgency=Level(command.urgency),
    )
    return await create(
        uow,
        body,
        now,
        actor_id=command.requester_id,
        ticket_id=ticket_id,
        channel=command.channel,
        source_message_id=command.source_message_id,
        cause=cause,
    )


async def comment_by_command(
    uow: UnitOfWork[TicketRepository], command: CommentCommand, now: datetime, cause: Envelope
) -> CommentRecord:
    """A comment relayed by another service: by the person it names (a requester's mail or
    answer page), else by the sending service itself."""
    ticket = await _ticket(uow, command.ticket_id)
    return await record_comment(
        uow,
        ticket,
        comment_author(command.author_id, ticket["requester_id"], cause.source),
        fit(command.body, COMMENT_MAX, "(no text)"),
        Visibility(command.visibility),
        now,
        channel=command.channel,
        note_kind=command.note_kind,
        cause=cause,
    )


async def resolve_by_command(
    uow: UnitOfWork[TicketRepository], command: ResolveCommand, now: datetime, cause: Envelope
) -> TicketRecord | None:
    """Resolve on behalf of another service; a ticket that moved on meanwhile is left alone
    (None), with an internal ``command_ignored`` history entry saying why."""
    ticket = await _ticket(uow, command.ticket_id)
    reason = command.reason
    why = resolve_refusal(reason, Status(ticket["status"]))
    if why is not None:
        await _note_ignored(uow, ticket, "resolve", why, now)
        return None
    try:
        new_state, _ = transition(
            ticket_state(ticket),
            Status.RESOLVED,
            None,
            command.resolution,
            SYSTEM,
            now,
            note=reason,
        )
    except DomainError as exc:
        await _note_ignored(uow, ticket, "resolve", str(exc), now)
        return None
    # "It works" from an answer page: the system resolves, the decision is the requester's.
    confirmed = reason == ResolveReason.CONFIRMED_BY_REQUESTER
    return await apply_transition(
        uow,
        ticket,
        new_state,
        ticket["status"],
        reason,
        None,
        SYSTEM,
        now,
        resolution_reason=reason,
        cause=cause,
        on_behalf_of=requester_actor(ticket["requester_id"]) if confirmed else None,
    )


async def reopen_by_command(
    uow: UnitOfWork[TicketRepository], command: ReopenCommand, now: datetime, cause: Envelope
) -> TicketRecord | None:
    """Reopen on behalf of another service (a survey answered "not resolved"); a ticket the
    lifecycle does not let reopen is left alone (None), noted in its history."""
    ticket = await _ticket(uow, command.ticket_id)
    try:
        new_state, _ = transition(ticket_state(ticket), Status.IN_PROGRESS, None, None, SYSTEM, now)
    except DomainError as exc:
        await _note_ignored(uow, ticket, "reopen", str(exc), now)
        return None
    return await apply_transition(
        uow,
        ticket,
        new_state,
        ticket["status"],
        None,
        command.reason,
        SYSTEM,
        now,
        cause=cause,
    )


async def _ticket(uow: UnitOfWork[TicketRepository], ticket_id: str) -> TicketRecord:
    ident = uuid.UUID(ticket_id)
    ticket = await uow.repo.get_ticket(ident, for_update=True)
    if ticket is None:
        raise LookupError(f"ticket {ident} does not exist")
    return ticket


async def _note_ignored(
    uow: UnitOfWork[TicketRepository], ticket: TicketRecord, command: str, why: str, now: datetime
) -> None:
    changes = {"command": command, "why": why}
    entry = HistoryEntry(
        ticket["id"], ticket["version"], "command_ignored", SYSTEM.id, changes, now, internal=True
    )
    await uow.repo.add_history(entry)
