"""Outages: warn the subscribers of a service before they feel it, then keep them posted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from stopclock_shared.auth import Principal
from stopclock_shared.errors import Forbidden, NotFound
from stopclock_shared.events.types import EventType
from stopclock_shared.events.vocabulary import OutageStatus
from stopclock_shared.unit_of_work import UnitOfWork

from ..domain import OutageResolved, may_act_for
from ..events import PersonRef, outage_event
from ..records import OutageRecord, OutageUpdateRecord, SubscriptionRecord
from ..repository import TicketRepository
from ..schemas import OutageIn
from .people import actor_of, person_refs


@dataclass(frozen=True, slots=True)
class OutageView:
    """An outage, its updates so far and how many subscribers were told."""

    outage: OutageRecord
    updates: Sequence[OutageUpdateRecord]
    notified: int


async def declare_outage(
    uow: UnitOfWork[TicketRepository], body: OutageIn, now: datetime
) -> OutageView:
    outage = await uow.repo.insert_outage(
        {"id": uuid.uuid4(), **body.model_dump(), "status": OutageStatus.ACTIVE, "created_at": now}
    )
    await uow.repo.add_outage_update(outage["id"], "declared", body.description, now)
    return await _announce(uow, EventType.OUTAGE_DECLARED, outage, body.description, now)


async def update_outage(
    uow: UnitOfWork[TicketRepository], outage_id: uuid.UUID, message: str, now: datetime
) -> OutageView:
    outage = await _active_outage(uow, outage_id)
    await uow.repo.add_outage_update(outage_id, "update", message, now)
    return await _announce(uow, EventType.OUTAGE_UPDATED, outage, message, now)


async def resolve_outage(
    uow: UnitOfWork[TicketRepository], outage_id: uuid.UUID, message: str, now: datetime
) -> OutageView:
    await _active_outage(uow, outage_id)
    outage = await uow.repo.update_outage(
        outage_id, {"status": OutageStatus.RESOLVED, "resolved_at": now}
    )
    await uow.repo.add_outage_update(outage_id, "resolved", message, now)
    return await _announce(uow, EventType.OUTAGE_RESOLVED, outage, message, now)


async def read_outage(uow: UnitOfWork[TicketRepository], outage_id: uuid.UUID) -> OutageView:
    outage = await uow.repo.get_outage(outage_id)
    if outage is None:
        raise NotFound("Outage", outage_id)
    subscribers = await uow.repo.subscribers_of(outage["service"])
    updates = await uow.repo.list_outage_updates(outage_id)
    return OutageView(outage, updates, len(subscribers))


async def subscribe(
    uow: UnitOfWork[TicketRepository],
    principal: Principal,
    service: str,
    person_id: str,
    now: datetime,
) -> SubscriptionRecord:
    """Warn ``person_id`` of ``service``'s outages (a requester subscribes themselves)."""
    if not may_act_for(actor_of(principal), person_id):
        raise Forbidden("Requesters may only subscribe themselves")
    if await uow.repo.get_person(person_id) is None:
        raise NotFound("Person", person_id)
    return await uow.repo.subscribe(service, person_id, now)


async def _active_outage(uow: UnitOfWork[TicketRepository], outage_id: uuid.UUID) -> OutageRecord:
    outage = await uow.repo.get_outage(outage_id, for_update=True)
    if outage is None:
        raise NotFound("Outage", outage_id)
    if outage["status"] == OutageStatus.RESOLVED:
        raise OutageResolved()
    return outage


async def _announce(
    uow: UnitOfWork[TicketRepository],
    type_: EventType,
    outage: OutageRecord,
    message: str,
    now: datetime,
) -> OutageView:
    """Tell the service's subscribers (with their managers' contacts) about ``outage``."""
    people = await uow.repo.subscribers_of(outage["service"])
    refs = await person_refs(uow, [p["id"] for p in people])
    subscribers: list[PersonRef] = [refs[p["id"]] for p in people]
    await uow.emit(*outage_event(type_, outage, subscribers, message, now))
    updates = await uow.repo.list_outage_updates(outage["id"])
    return OutageView(outage, updates, len(subscribers))
