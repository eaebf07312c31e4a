"""Tickets: open, read, list, edit, move through the lifecycle."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import cast

from stopclock_shared.auth import Principal
from stopclock_shared.errors import Forbidden, Invalid, NotFound
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.types import EventType
from stopclock_shared.events.vocabulary import Channel
from stopclock_shared.unit_of_work import UnitOfWork

from .. import metrics
from ..domain import (
    Actor,
    Impact,
    Priority,
    Status,
    TicketState,
    Urgency,
    WaitingReason,
    may_act_for,
    may_see_ticket,
    recompute_priority,
    ticket_number,
    transition,
)
from ..domain import (
    open_ticket as new_ticket_state,
)
from ..events import person_ref, ticket_event
from ..records import TicketRecord
from ..repository import After, HistoryEntry, TicketRepository
from ..schemas import TicketCreate, TicketFilters, TicketUpdate, TransitionIn
from .people import actor_of, person_refs


class UnknownRequester(LookupError):
    """The requester of a new ticket is not in the directory."""

    def __init__(self, person_id: str) -> None:
        self.person_id = person_id
        super().__init__(f"Unknown person {person_id!r}; create it with PUT /api/v1/people/{{id}}")


def ticket_state(ticket: TicketRecord) -> TicketState:
    """The part of a stored ticket the domain rules read."""
    return TicketState(
        requester_id=ticket["requester_id"],
        status=Status(ticket["status"]),
        waiting_reason=WaitingReason(ticket["waiting_reason"])
        if ticket["waiting_reason"]
        else None,
        waiting_since=ticket["waiting_since"],
        priority=Priority(ticket["priority"]),
        impact=Impact(ticket["impact"]),
        urgency=Urgency(ticket["urgency"]),
        version=ticket["version"],
        resolved_at=ticket["resolved_at"],
        resolution=ticket["resolution"],
        closed_at=ticket["closed_at"],
    )


async def emit_ticket_event(
    uow: UnitOfWork[TicketRepository],
    type_: EventType,
    ticket: TicketRecord,
    now: datetime,
    extra: Mapping[str, object] | None = None,
    cause: Envelope | None = None,
) -> None:
    """A ``tickets.events`` message about ``ticket`` as it now is (its people read afresh)."""
    refs = await person_refs(uow, [ticket["requester_id"], ticket["assignee_id"]])
    await uow.emit(*ticket_event(type_, ticket, now, refs, extra, cause))


# --- open -------------------------------------------------------------------------------


async def open_ticket(
    uow: UnitOfWork[TicketRepository], principal: Principal, body: TicketCreate, now: datetime
) -> TicketRecord:
    """A ticket opened through the API (by its requester, or by the desk for anyone)."""
    if not may_act_for(actor_of(principal), body.requester_id):
        raise Forbidden("Requesters may only open tickets for themselves")
    try:
        return await create(uow, body, now, actor_id=principal.sub)
    except UnknownRequester as exc:
        raise Invalid.field("requester_id", str(exc)) from exc


# Every column of a new ticket that the request does not set.
_UNSET = {
    "waiting_reason": None,
    "assignee_id": None,
    "group": None,
    "resolved_at": None,
    "closed_at": None,
    "resolution": None,
    "resolution_reason": None,
    "version": 1,
    "waiting_since": None,
}


async def create(
    uow: UnitOfWork[TicketRepository],
    body: TicketCreate,
    now: datetime,
    *,
    actor_id: str,
    ticket_id: uuid.UUID | None = None,
    channel: Channel = Channel.API,
    source_message_id: str | None = None,
    cause: Envelope | None = None,
) -> TicketRecord:
    """The one create path (API and mail): ticket, first history entry and event.

    The hot path of the service: two round trips in all, the requester with the number,
    then ticket + history + event in one statement. Raises `UnknownRequester`.
    """
    found = await uow.repo.requester_and_number(body.requester_id, body.type)
    if found is None:
        raise UnknownRequester(body.requester_id)
    requester, manager, seq = found
    state = new_ticket_state(body.requester_id, Impact(body.impact), Urgency(body.urgency))
    fields = body.model_dump()
    # The request's fields and the columns it does not set make every column of the row.
    ticket = cast(
        TicketRecord,
        {
            "id": ticket_id or uuid.uuid4(),
            "number": ticket_number(body.type, seq),
            **fields,
            **_UNSET,
            "status": state.status.value,
            "priority": state.priority.value,
            "created_at": now,
            "updated_at": now,
        },
    )
    known = {requester["id"]: person_ref(requester, manager)}
    origin = {"channel": channel.value, "source_message_id": source_message_id}
    event = ticket_event(EventType.TICKET_CREATED, ticket, now, known, origin, cause)
    changes: dict[str, object] = {"ticket": fields, "channel": channel.value}
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
    await uow.repo.open_ticket(ticket, entry, event)
    metrics.TICKETS_CREATED.labels(ticket["type"], ticket["priority"]).inc()
    return ticket


# --- read -------------------------------------------------------------------------------


async def visible_ticket(
    uow: UnitOfWork[TicketRepository],
    principal: Principal,
    ticket_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> TicketRecord:
    """The ticket, if ``principal`` may see it (staff: all; a requester: their own)."""
    ticket = await uow.repo.get_ticket(ticket_id, for_update=for_update)
    if ticket is None:
        raise NotFound("Ticket", ticket_id)
    if not may_see_ticket(actor_of(principal), ticket["requester_id"]):
        raise Forbidden("Requesters may only see their own tickets")
    return ticket


async def acted_on(
    uow: UnitOfWork[TicketRepository], principal: Principal, ticket_id: uuid.UUID
) -> tuple[TicketRecord, Actor]:
    """The ticket ``principal`` changes through the API (locked until commit) and who acts."""
    ticket = await visible_ticket(uow, principal, ticket_id, for_update=True)
    return ticket, actor_of(principal)


async def list_tickets(
    uow: UnitOfWork[TicketRepository],
    principal: Principal,
    filters: TicketFilters,
    limit: int,
    after: After | None,
) -> Sequence[TicketRecord]:
    """Tickets matching ``filters`` (a requester lists their own only)."""
    actor = actor_of(principal)
    if not actor.is_staff:
        if filters.requester_id not in (None, actor.id):
            raise Forbidden("Requesters may only list their own tickets")
        filters = filters.model_copy(update={"requester_id": actor.id})
    return await uow.repo.list_tickets(filters.model_dump(), limit, after)


# --- change -----------------------------------------------------------------------------


async def update_ticket(
    uow: UnitOfWork[TicketRepository],
    principal: Principal,
    ticket_id: uuid.UUID,
    body: TicketUpdate,
    now: datetime,
) -> TicketRecord:
    """Edit the fields sent; a new impact or urgency recomputes the priority."""
    if not principal.is_staff:
        raise Forbidden("Only the desk may edit a ticket")
    ticket = await visible_ticket(uow, principal, ticket_id, for_update=True)
    wanted = body.model_dump(exclude_unset=True)
    current: Mapping[str, object] = ticket  # read by the names the request sends
    changes = {k: [current[k], v] for k, v in wanted.items() if current[k] != v}
    if not changes:
        return ticket
    values: dict[str, object] = {k: new for k, (_, new) in changes.items()}
    state, priority_changed = recompute_priority(
        ticket_state(ticket), wanted.get("impact"), wanted.get("urgency")
    )
    if priority_changed:
        values["priority"] = state.priority.value
        changes["priority"] = [ticket["priority"], state.priority.value]
    updated = await uow.repo.update_ticket(ticket_id, {**values, "updated_at": now})
    entry = HistoryEntry(ticket_id, updated["version"], "updated", principal.sub, changes, now)
    await uow.repo.add_history(entry)
    await emit_ticket_event(uow, EventType.TICKET_UPDATED, updated, now, {"changes": changes})
    if priority_changed:
        moved = {"from_priority": ticket["priority"], "to_priority": state.priority.value}
        await emit_ticket_event(uow, EventType.TICKET_PRIORITY_CHANGED, updated, now, moved)
    return updated


async def change_status(
    uow: UnitOfWork[TicketRepository],
    principal: Principal,
    ticket_id: uuid.UUID,
    body: TransitionIn,
    now: datetime,
) -> TicketRecord:
    """A move through the lifecycle asked for through the API."""
    ticket, actor = await acted_on(uow, principal, ticket_id)
    new_state, (event,) = transition(
        # The domain parses the status itself (unknown -> 422), so pass the raw string.
        ticket_state(ticket),
        cast(Status, body.to),
        body.reason,
        body.resolution,
        actor,
        now,
        note=body.note,
    )
    return await apply_transition(
        uow, ticket, new_state, ticket["status"], event.reason, event.note, actor, now
    )


async def apply_transition(
    uow: UnitOfWork[TicketRepository],
    ticket: TicketRecord,
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
) -> TicketRecord:
    """Write a domain transition, its history entry and its event.

    ``on_behalf_of``: the person whose decision ``actor`` carries out (the requester's
    confirmation from an answer page); the history names both, the event that person.
    """
    values: dict[str, object] = {
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
    updated = await uow.repo.update_ticket(ticket["id"], values)
    change = {"status": [from_status, updated["status"]], "reason": reason, "note": note}
    if new_state.status == Status.RESOLVED:
        change["resolution"] = updated["resolution"]
    if on_behalf_of is not None:
        change["on_behalf_of"] = on_behalf_of.id
    entry = HistoryEntry(ticket["id"], updated["version"], "status_changed", actor.id, change, now)
    await uow.repo.add_history(entry)
    decider = on_behalf_of or actor
    await emit_ticket_event(
        uow,
        EventType.TICKET_STATUS_CHANGED,
        updated,
        now,
        {
            "from_status": from_status,
            "to_status": updated["status"],
            "reason": reason,
            "note": note,
            "actor_id": decider.id,
            "actor_roles": sorted(r.value for r in decider.roles),
            "resolution_reason": values.get("resolution_reason"),
        },
        cause=cause,
    )
    metrics.TRANSITIONS.labels(from_status, updated["status"]).inc()
    return updated
