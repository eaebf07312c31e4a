"""Use cases of the ticket service: (session, actor, input, now) -> state + outbox rows.

Functions never commit; the HTTP dependency or the consumer loop owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.auth import Principal
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.models import CommentCommand, OpenTicketCommand
from stopclock_shared.events.types import EventType
from stopclock_shared.events.vocabulary import Channel, NoteKind, ResolveReason
from stopclock_shared.outbox import Outbox
from stopclock_shared.problems import ProblemError, field_error, not_found

from . import metrics
from . import repository as repo
from .domain import (
    REQUESTER_ANSWERED,
    Actor,
    DomainError,
    FieldError,
    Forbidden,
    InvalidTransition,
    Role,
    Status,
    TicketState,
    Visibility,
    comment_author,
    fit,
    may_comment,
    may_see_comment,
    may_see_ticket,
    open_ticket,
    recompute_priority,
    requester_actor,
    requester_answered,
    requester_comment_answers,
    requester_comment_reopens,
    resolve_refusal,
    ticket_number,
    transition,
)
from .domain.vocabulary import Impact, Urgency, WaitingReason
from .models import tickets
from .schemas import (
    COMMENT_MAX,
    DESCRIPTION_MAX,
    TITLE_MAX,
    CommentIn,
    OutageIn,
    PersonIn,
    TicketCreate,
    TicketUpdate,
    TransitionIn,
)
from .snapshots import (
    emit_outage_event,
    emit_person_event,
    emit_ticket_event,
    person_ref,
    person_refs,
    ticket_event,
)

SYSTEM = Actor(id="system", roles=frozenset({Role.SERVICE}))


class UnknownRequester(LookupError):
    """The requester of a new ticket is not in the directory."""

    def __init__(self, person_id: str) -> None:
        self.person_id = person_id
        super().__init__(f"Unknown person {person_id!r}; create it with PUT /api/v1/people/{{id}}")


def actor_of(principal: Principal) -> Actor:
    return Actor(id=principal.sub, roles=frozenset(Role(r.value) for r in principal.roles))


@contextmanager
def domain_errors() -> Iterator[None]:
    """Translate domain refusals into problem answers (409, 422, 403)."""
    try:
        yield
    except InvalidTransition as exc:
        raise ProblemError(
            409,
            "Invalid transition",
            str(exc),
            allowed=[s.value for s in exc.allowed],
            current_status=exc.from_status.value,
        ) from exc
    except FieldError as exc:
        raise field_error(exc.field, exc.message) from exc
    except Forbidden as exc:
        raise ProblemError(403, "Forbidden", exc.message) from exc


def _state(ticket: RowMapping) -> TicketState:
    return TicketState(
        status=Status(ticket["status"]),
        priority=ticket["priority"],
        impact=Impact(ticket["impact"]),
        urgency=Urgency(ticket["urgency"]),
        requester_id=ticket["requester_id"],
        waiting_reason=WaitingReason(ticket["waiting_reason"])
        if ticket["waiting_reason"]
        else None,
        resolved_at=ticket["resolved_at"],
        closed_at=ticket["closed_at"],
        resolution=ticket["resolution"],
        version=ticket["version"],
        waiting_since=ticket["waiting_since"],
    )


# --- people -----------------------------------------------------------------------------


async def put_person(
    session: AsyncSession, outbox: Outbox, person_id: str, body: PersonIn, now: datetime
) -> tuple[RowMapping, bool]:
    if body.manager_id == person_id:
        raise field_error("manager_id", "A person cannot be their own manager")
    person, created = await repo.upsert_person(session, person_id, body.model_dump(), now)
    # Other services keep a copy of the directory (the mail gateway: who writes to the desk).
    await emit_person_event(session, outbox, person_id, now)
    return person, created


async def get_person(session: AsyncSession, principal: Principal, person_id: str) -> RowMapping:
    if not principal.is_staff and principal.sub != person_id:
        raise ProblemError(403, "Forbidden", "Requesters may only read their own profile")
    person = await repo.get_person(session, person_id)
    if person is None:
        raise not_found("Person", person_id)
    return person


# --- tickets ----------------------------------------------------------------------------


async def create_ticket(
    session: AsyncSession, outbox: Outbox, principal: Principal, body: TicketCreate, now: datetime
) -> dict[str, Any]:
    if not principal.is_staff and body.requester_id != principal.sub:
        raise ProblemError(403, "Forbidden", "Requesters may only open tickets for themselves")
    try:
        return await _open(session, outbox, body, now, actor_id=principal.sub)
    except UnknownRequester as exc:
        raise field_error("requester_id", str(exc)) from exc


async def _open(
    session: AsyncSession,
    outbox: Outbox,
    body: TicketCreate,
    now: datetime,
    *,
    actor_id: str,
    ticket_id: uuid.UUID | None = None,
    channel: Channel = Channel.API,
    source_message_id: str | None = None,
    cause: Envelope | None = None,
) -> dict[str, Any]:
    """The one create path (API and mail): ticket, first history entry and event."""
    # Two round trips in all: the requester with the number, then ticket + history + event.
    found = await repo.requester_and_number(session, body.requester_id, body.type)
    if found is None:
        raise UnknownRequester(body.requester_id)
    requester, manager, seq = found
    state = open_ticket(body.requester_id, Impact(body.impact), Urgency(body.urgency))
    fields = body.model_dump()
    ticket = _NEW_TICKET | {
        "id": ticket_id or uuid.uuid4(),
        "number": ticket_number(body.type, seq),  # type: ignore[arg-type]
        **fields,
        "status": state.status.value,
        "priority": state.priority.value,
        "created_at": now,
        "updated_at": now,
    }
    known = {requester["id"]: person_ref(requester, manager)}
    origin = {"channel": channel.value, "source_message_id": source_message_id}
    event = ticket_event(EventType.TICKET_CREATED, ticket, now, known, origin, cause)
    changes: dict[str, Any] = {"ticket": fields, "channel": channel.value}
    if source_message_id:
        changes["source_message_id"] = source_message_id
    if cause is not None:
        changes["via"] = cause.source
    entry = {
        "ticket_id": ticket["id"],
        "version": 1,
        "action": "created",
        "actor_id": actor_id,
        "changes": changes,
        "created_at": now,
    }
    await repo.open_ticket(session, _open_statement(outbox), ticket, entry, outbox.params(*event))
    metrics.TICKETS_CREATED.labels(ticket["type"], ticket["priority"]).inc()
    return ticket


# Every column of a new ticket that the request does not set.
_NEW_TICKET: dict[str, Any] = {c.name: None for c in tickets.c} | {
    "work_blocked": False,
    "version": 1,
}


@cache
def _open_statement(outbox: Outbox) -> Any:
    return repo.open_ticket_statement(outbox)


async def visible_ticket(
    session: AsyncSession, principal: Principal, ticket_id: uuid.UUID, *, for_update: bool = False
) -> RowMapping:
    ticket = await repo.get_ticket(session, ticket_id, for_update=for_update)
    if ticket is None:
        raise not_found("Ticket", ticket_id)
    if not may_see_ticket(actor_of(principal), ticket["requester_id"]):
        raise ProblemError(403, "Forbidden", "Requesters may only see their own tickets")
    return ticket


async def update_ticket(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    ticket_id: uuid.UUID,
    body: TicketUpdate,
    now: datetime,
) -> RowMapping:
    if not principal.is_staff:
        raise ProblemError(403, "Forbidden", "Only the desk may edit a ticket")
    ticket = await visible_ticket(session, principal, ticket_id, for_update=True)
    wanted = body.model_dump(exclude_unset=True)
    changes = {k: [ticket[k], v] for k, v in wanted.items() if ticket[k] != v}
    if not changes:
        return ticket
    values: dict[str, Any] = {k: new for k, (_, new) in changes.items()}
    state, priority_changed = recompute_priority(
        _state(ticket), wanted.get("impact"), wanted.get("urgency")
    )
    if priority_changed:
        values["priority"] = state.priority.value
        changes["priority"] = [ticket["priority"], state.priority.value]
    updated = await repo.update_ticket(session, ticket_id, {**values, "updated_at": now})
    await repo.add_history(
        session, ticket_id, updated["version"], "updated", principal.sub, changes, now
    )
    await emit_ticket_event(
        session, outbox, EventType.TICKET_UPDATED, updated, now, {"changes": changes}
    )
    if priority_changed:
        await emit_ticket_event(
            session,
            outbox,
            EventType.TICKET_PRIORITY_CHANGED,
            updated,
            now,
            {"from_priority": ticket["priority"], "to_priority": state.priority.value},
        )
    return updated


async def _apply_transition(
    session: AsyncSession,
    outbox: Outbox,
    ticket: RowMapping,
    new_state: TicketState,
    from_status: str,
    reason: str | None,
    note: str | None,
    actor: Actor,
    now: datetime,
    *,
    resolution_reason: str | None = None,
    cause: Envelope | None = None,
    on_behalf_of: Actor | None = None,
) -> RowMapping:
    """Write a domain transition, its history entry and its event.

    ``on_behalf_of``: the person whose decision ``actor`` carries out (the requester's
    confirmation from an answer page); the history names both, the event that person.
    """
    values: dict[str, Any] = {
        "status": new_state.status.value,
        "waiting_reason": new_state.waiting_reason.value if new_state.waiting_reason else None,
        "waiting_since": new_state.waiting_since,
        "resolved_at": new_state.resolved_at,
        "closed_at": new_state.closed_at,
        "resolution": new_state.resolution,
        "updated_at": now,
    }
    if new_state.status == Status.RESOLVED:
        values["resolution_reason"] = resolution_reason
    elif from_status == Status.RESOLVED:
        values["resolution_reason"] = None
    updated = await repo.update_ticket(session, ticket["id"], values)
    change = {"status": [from_status, updated["status"]], "reason": reason, "note": note}
    if new_state.status == Status.RESOLVED:
        change["resolution"] = updated["resolution"]
    if on_behalf_of is not None:
        change["on_behalf_of"] = on_behalf_of.id
    await repo.add_history(
        session, ticket["id"], updated["version"], "status_changed", actor.id, change, now
    )
    await emit_ticket_event(
        session,
        outbox,
        EventType.TICKET_STATUS_CHANGED,
        updated,
        now,
        {
            "from_status": from_status,
            "to_status": updated["status"],
            "reason": reason,
            "note": note,
            "actor_id": (on_behalf_of or actor).id,
            "actor_roles": sorted(r.value for r in (on_behalf_of or actor).roles),
            "resolution_reason": values.get("resolution_reason"),
        },
        cause=cause,
    )
    metrics.TRANSITIONS.labels(from_status, updated["status"]).inc()
    return updated


async def change_status(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    ticket_id: uuid.UUID,
    body: TransitionIn,
    now: datetime,
) -> RowMapping:
    ticket = await visible_ticket(session, principal, ticket_id, for_update=True)
    actor = actor_of(principal)
    with domain_errors():
        new_state, events = transition(
            # The domain parses the status itself (unknown -> 422), so pass the raw string.
            _state(ticket),
            cast(Status, body.to),
            body.reason,
            body.resolution,
            actor,
            now,
            note=body.note,
        )
    event = events[0]
    return await _apply_transition(
        session, outbox, ticket, new_state, ticket["status"], event.reason, event.note, actor, now
    )


async def add_comment(
    session: AsyncSession,
    outbox: Outbox,
    principal: Principal,
    ticket_id: uuid.UUID,
    body: CommentIn,
    now: datetime,
) -> RowMapping:
    ticket = await visible_ticket(session, principal, ticket_id, for_update=True)
    actor = actor_of(principal)
    visibility = Visibility(body.visibility)
    if not may_comment(actor, ticket["requester_id"], visibility):
        raise ProblemError(403, "Forbidden", "Requesters may only add public comments")
    return await _record_comment(session, outbox, ticket, actor, body.body, visibility, now)


async def _record_comment(
    session: AsyncSession,
    outbox: Outbox,
    ticket: RowMapping,
    actor: Actor,
    text: str,
    visibility: Visibility,
    now: datetime,
    *,
    channel: Channel = Channel.API,
    note_kind: NoteKind | None = None,
    cause: Envelope | None = None,
) -> RowMapping:
    """The one comment path (API, mail, answer page): the comment, and the requester's
    answer rules (a wait ends; a ticket resolved for lack of response reopens)."""
    ticket_id = ticket["id"]
    comment = await repo.insert_comment(
        session,
        {
            "id": uuid.uuid4(),
            "ticket_id": ticket_id,
            "body": text,
            "visibility": visibility.value,
            "author_id": actor.id,
            "created_at": now,
            "channel": channel.value,
            "note_kind": note_kind.value if note_kind else None,
        },
    )
    by_requester = actor.id == ticket["requester_id"]
    updated = await repo.update_ticket(session, ticket_id, {"updated_at": now})
    change = {
        "comment_id": str(comment["id"]),
        "visibility": visibility.value,
        "channel": channel.value,
    }
    if note_kind is not None:
        change["note_kind"] = note_kind.value
    await repo.add_history(
        session,
        ticket_id,
        updated["version"],
        "commented",
        actor.id,
        change,
        now,
        internal=visibility == Visibility.INTERNAL,
    )
    await emit_ticket_event(
        session,
        outbox,
        EventType.TICKET_COMMENTED,
        updated,
        now,
        {
            "comment": {
                "id": str(comment["id"]),
                "body": comment["body"],
                "visibility": comment["visibility"],
                "author_id": actor.id,
                "author_is_requester": by_requester,
                "created_at": now.isoformat(),
                "channel": comment["channel"],
                "note_kind": comment["note_kind"],
            }
        },
        cause=cause,
    )
    state = _state(updated)
    if requester_comment_answers(state.status, visibility, by_requester):
        with domain_errors():
            new_state, events = requester_answered(state, actor, now)
        await _apply_transition(
            session,
            outbox,
            updated,
            new_state,
            updated["status"],
            events[0].reason,
            None,
            actor,
            now,
            cause=cause,
        )
    elif requester_comment_reopens(
        state.status, updated["resolution_reason"], visibility, by_requester
    ):
        # Resolved for lack of response: the requester's answer reopens it.
        with domain_errors():
            new_state, events = transition(state, Status.IN_PROGRESS, None, None, actor, now)
        await _apply_transition(
            session,
            outbox,
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
    session: AsyncSession,
    principal: Principal,
    ticket_id: uuid.UUID,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[RowMapping]:
    await visible_ticket(session, principal, ticket_id)
    public_only = not may_see_comment(actor_of(principal), Visibility.INTERNAL)
    return list(await repo.list_comments(session, ticket_id, public_only, limit, after))


async def list_history(
    session: AsyncSession, principal: Principal, ticket_id: uuid.UUID
) -> list[RowMapping]:
    await visible_ticket(session, principal, ticket_id)
    return list(await repo.list_history(session, ticket_id, include_internal=principal.is_staff))


# --- commands from other services -------------------------------------------------------


async def command_open(
    session: AsyncSession, outbox: Outbox, cmd: OpenTicketCommand, now: datetime, cause: Envelope
) -> dict[str, Any] | None:
    """Open the ticket a mail asks for, under the id the sender chose: every delivery of the
    command (even re-sent under another event id) opens one ticket and emits one event."""
    ticket_id = uuid.UUID(cmd.ticket_id)
    # Deliveries on other partitions wait here for the first one's commit, then find it.
    await repo.lock_ticket_id(session, ticket_id)
    existing = await repo.get_ticket(session, ticket_id)
    if existing is not None:
        if existing["requester_id"] != cmd.requester_id:
            raise ValueError(
                f"ticket {ticket_id} already exists for requester {existing['requester_id']!r},"
                f" not {cmd.requester_id!r}; the command reuses another ticket's id"
            )
        return None
    body = TicketCreate(
        type=cmd.type,
        title=fit(cmd.title, TITLE_MAX, "(no subject)"),
        description=fit(cmd.description, DESCRIPTION_MAX, "(no text)"),
        requester_id=cmd.requester_id,
        impact=cmd.impact,
        urgency=cmd.urgency,
    )
    # An unknown requester raises UnknownRequester: the command is dead-lettered with it.
    return await _open(
        session,
        outbox,
        body,
        now,
        actor_id=cmd.requester_id,
        ticket_id=ticket_id,
        channel=cmd.channel,
        source_message_id=cmd.source_message_id,
        cause=cause,
    )


async def command_comment(
    session: AsyncSession, outbox: Outbox, cmd: CommentCommand, now: datetime, cause: Envelope
) -> RowMapping:
    """A comment relayed by another service: by the person it names (a requester's mail or
    answer page), else by the sending service itself."""
    ticket = await repo.get_ticket(session, uuid.UUID(cmd.ticket_id), for_update=True)
    if ticket is None:
        raise LookupError(f"ticket {cmd.ticket_id} does not exist")
    return await _record_comment(
        session,
        outbox,
        ticket,
        comment_author(cmd.author_id, ticket["requester_id"], cause.source),
        fit(cmd.body, COMMENT_MAX, "(no text)"),
        Visibility(cmd.visibility),
        now,
        channel=cmd.channel,
        note_kind=cmd.note_kind,
        cause=cause,
    )


async def command_resolve(
    session: AsyncSession,
    outbox: Outbox,
    ticket_id: uuid.UUID,
    resolution: str,
    reason: str | None,
    now: datetime,
    cause: Envelope,
) -> RowMapping | None:
    """Resolve on behalf of another service; a ticket that moved on meanwhile is left alone."""
    ticket = await repo.get_ticket(session, ticket_id, for_update=True)
    if ticket is None:
        raise LookupError(f"ticket {ticket_id} does not exist")
    why = resolve_refusal(reason, Status(ticket["status"]))
    if why is not None:
        await _note_ignored(session, ticket, "resolve", why, now)
        return None
    try:
        new_state, _ = transition(
            _state(ticket), Status.RESOLVED, None, resolution, SYSTEM, now, note=reason
        )
    except DomainError as exc:
        await _note_ignored(session, ticket, "resolve", str(exc), now)
        return None
    # "It works" from an answer page: the system resolves, the decision is the requester's.
    confirmed = reason == ResolveReason.CONFIRMED_BY_REQUESTER
    return await _apply_transition(
        session,
        outbox,
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


async def command_reopen(
    session: AsyncSession,
    outbox: Outbox,
    ticket_id: uuid.UUID,
    reason: str | None,
    now: datetime,
    cause: Envelope,
) -> RowMapping | None:
    ticket = await repo.get_ticket(session, ticket_id, for_update=True)
    if ticket is None:
        raise LookupError(f"ticket {ticket_id} does not exist")
    try:
        new_state, _ = transition(_state(ticket), Status.IN_PROGRESS, None, None, SYSTEM, now)
    except DomainError as exc:
        await _note_ignored(session, ticket, "reopen", str(exc), now)
        return None
    return await _apply_transition(
        session, outbox, ticket, new_state, ticket["status"], None, reason, SYSTEM, now, cause=cause
    )


async def _note_ignored(
    session: AsyncSession, ticket: RowMapping, command: str, why: str, now: datetime
) -> None:
    await repo.add_history(
        session,
        ticket["id"],
        ticket["version"],
        "command_ignored",
        SYSTEM.id,
        {"command": command, "why": why},
        now,
        internal=True,
    )


# --- outages ----------------------------------------------------------------------------


async def subscribe(
    session: AsyncSession, principal: Principal, service: str, person_id: str, now: datetime
) -> RowMapping:
    if not principal.is_staff and principal.sub != person_id:
        raise ProblemError(403, "Forbidden", "Requesters may only subscribe themselves")
    if await repo.get_person(session, person_id) is None:
        raise not_found("Person", person_id)
    return await repo.subscribe(session, service, person_id, now)


async def _subscriber_refs(session: AsyncSession, service: str) -> list[dict[str, Any]]:
    people = await repo.subscribers_of(session, service)
    refs = await person_refs(session, [p["id"] for p in people])
    return [refs[p["id"]] for p in people]


async def declare_outage(
    session: AsyncSession, outbox: Outbox, body: OutageIn, now: datetime
) -> tuple[RowMapping, int]:
    outage = await repo.insert_outage(
        session, {"id": uuid.uuid4(), **body.model_dump(), "status": "active", "created_at": now}
    )
    await repo.add_outage_update(session, outage["id"], "declared", body.description, now)
    subs = await _subscriber_refs(session, body.service)
    await emit_outage_event(
        session, outbox, EventType.OUTAGE_DECLARED, outage, subs, body.description, now
    )
    return outage, len(subs)


async def outage_message(
    session: AsyncSession,
    outbox: Outbox,
    outage_id: uuid.UUID,
    message: str,
    now: datetime,
    *,
    resolve: bool,
) -> tuple[RowMapping, int]:
    outage = await repo.get_outage(session, outage_id, for_update=True)
    if outage is None:
        raise not_found("Outage", outage_id)
    if outage["status"] == "resolved":
        raise ProblemError(409, "Outage resolved", "This outage is already resolved")
    if resolve:
        outage = await repo.update_outage(
            session, outage_id, {"status": "resolved", "resolved_at": now}
        )
    await repo.add_outage_update(
        session, outage_id, "resolved" if resolve else "update", message, now
    )
    subs = await _subscriber_refs(session, outage["service"])
    type_ = EventType.OUTAGE_RESOLVED if resolve else EventType.OUTAGE_UPDATED
    await emit_outage_event(session, outbox, type_, outage, subs, message, now)
    return outage, len(subs)
