"""Event-carried state: the ticket snapshot and the envelopes of the ticket service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.topics import OUTAGES_EVENTS, PEOPLE_EVENTS, TICKETS_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.outbox import Outbox

from . import repository as repo

SOURCE = "stopclock/ticket"
TicketRow = RowMapping | Mapping[str, Any]  # a row read back, or one about to be written


def person_ref(person: Mapping[str, Any], manager: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "id": person["id"],
        "name": person["name"],
        "email": person["email"],
        "timezone": person["timezone"],
        "locale": person["locale"],
        "vip": person["vip"],
        "difficult": person["difficult"],
        "manager_id": person["manager_id"],
        "manager_email": manager["email"] if manager else None,
        "manager_name": manager["name"] if manager else None,
    }


async def person_refs(session: AsyncSession, ids: list[str]) -> dict[str, dict[str, Any]]:
    """People with their manager's contact, for snapshots."""
    found = await repo.get_people_with_managers(session, [i for i in ids if i])
    return {pid: person_ref(person, boss) for pid, (person, boss) in found.items()}


async def emit_person_event(
    session: AsyncSession, outbox: Outbox, person_id: str, now: datetime
) -> Envelope:
    """``stopclock.person.updated.v1`` with the person as it now is (manager's contact
    included), keyed by person id so one person's changes stay in order."""
    refs = await person_refs(session, [person_id])
    envelope = new_envelope(
        EventType.PERSON_UPDATED,
        source=SOURCE,
        subject=person_id,
        time=now,
        data={"person": refs[person_id]},
    )
    await outbox.add(session, PEOPLE_EVENTS, person_id, envelope)
    return envelope


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def snapshot_of(ticket: TicketRow, refs: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The ticket as events carry it, with its people's refs (requester at least)."""
    return {
        "id": str(ticket["id"]),
        "number": ticket["number"],
        "type": ticket["type"],
        "title": ticket["title"],
        "description": ticket["description"],
        "status": ticket["status"],
        "waiting_reason": ticket["waiting_reason"],
        "priority": ticket["priority"],
        "impact": ticket["impact"],
        "urgency": ticket["urgency"],
        "requester": refs[ticket["requester_id"]],
        "assignee_id": ticket["assignee_id"],
        "assignee": refs.get(ticket["assignee_id"]) if ticket["assignee_id"] else None,
        "group": ticket["group"],
        "service": ticket["service"],
        "category": ticket["category"],
        "work_blocked": ticket["work_blocked"],
        "created_at": iso(ticket["created_at"]),
        "updated_at": iso(ticket["updated_at"]),
        "resolved_at": iso(ticket["resolved_at"]),
        "closed_at": iso(ticket["closed_at"]),
        "resolution": ticket["resolution"],
        "resolution_reason": ticket["resolution_reason"],
        "version": ticket["version"],
        "waiting_since": iso(ticket["waiting_since"]),
    }


def ticket_event(
    type_: str,
    ticket: TicketRow,
    now: datetime,
    refs: Mapping[str, dict[str, Any]],
    extra: dict[str, Any] | None = None,
    cause: Envelope | None = None,
) -> tuple[str, str, Envelope]:
    """(topic, key, envelope) of a ticket event carrying the snapshot."""
    envelope = new_envelope(
        type_,
        source=SOURCE,
        subject=str(ticket["id"]),
        time=now,
        data={"ticket": snapshot_of(ticket, refs), **(extra or {})},
        cause=cause,
        sequence=ticket["version"],
    )
    return TICKETS_EVENTS, str(ticket["id"]), envelope


async def emit_ticket_event(
    session: AsyncSession,
    outbox: Outbox,
    type_: str,
    ticket: RowMapping,
    now: datetime,
    extra: dict[str, Any] | None = None,
    cause: Envelope | None = None,
) -> Envelope:
    refs = await person_refs(session, [ticket["requester_id"], ticket["assignee_id"]])
    topic, key, envelope = ticket_event(type_, ticket, now, refs, extra, cause)
    await outbox.add(session, topic, key, envelope)
    return envelope


def outage_data(outage: RowMapping) -> dict[str, Any]:
    return {
        "id": str(outage["id"]),
        "service": outage["service"],
        "title": outage["title"],
        "description": outage["description"],
        "impact": outage["impact"],
        "status": outage["status"],
        "created_at": iso(outage["created_at"]),
        "resolved_at": iso(outage["resolved_at"]),
    }


async def emit_outage_event(
    session: AsyncSession,
    outbox: Outbox,
    type_: str,
    outage: RowMapping,
    subscribers: list[dict[str, Any]],
    message: str,
    now: datetime,
) -> None:
    envelope = new_envelope(
        type_,
        source=SOURCE,
        subject=outage["service"],
        time=now,
        data={"outage": outage_data(outage), "subscribers": subscribers, "message": message},
    )
    await outbox.add(session, OUTAGES_EVENTS, outage["service"], envelope)
