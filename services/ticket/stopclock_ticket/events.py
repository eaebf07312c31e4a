"""The events the ticket service emits (``tickets.events``, ``people.events``,
``outages.events``): event-carried state built from stored rows, as (topic, key, envelope).

The payloads are built as plain dicts in the field order of the contract models
(`stopclock_shared.events.tickets`, ``.people``, ``.outages``): the wire JSON stays exactly
what consumers have always read (times as ``isoformat()``), and the hot path of a ticket
creation pays no model validation. `tests/integration/shared/test_event_contract_on_topics.py`
checks every published message against its model.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.topics import OUTAGES_EVENTS, PEOPLE_EVENTS, TICKETS_EVENTS
from stopclock_shared.events.types import EventType

from .records import OutageRecord, PersonRecord, TicketRecord

SOURCE = "stopclock/ticket"


class PersonRef(TypedDict):
    """`PersonRef` of docs/events.md (`stopclock_shared.events.people.PersonRef`), as
    sent: a person with their manager's contact."""

    id: str
    name: str
    email: str
    timezone: str
    locale: str
    vip: bool
    difficult: bool
    manager_id: str | None
    manager_email: str | None
    manager_name: str | None


Event = tuple[str, str, Envelope]  # (topic, key, envelope), as the outbox takes it


def person_ref(person: PersonRecord, manager: PersonRecord | None) -> PersonRef:
    """The person's own fields, then their manager's contact, in the contract's order."""
    return PersonRef(
        id=person["id"],
        name=person["name"],
        email=person["email"],
        timezone=person["timezone"],
        locale=person["locale"],
        vip=person["vip"],
        difficult=person["difficult"],
        manager_id=person["manager_id"],
        manager_email=manager["email"] if manager else None,
        manager_name=manager["name"] if manager else None,
    )


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def snapshot_of(ticket: TicketRecord, refs: Mapping[str, PersonRef]) -> dict[str, Any]:
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
    type_: EventType,
    ticket: TicketRecord,
    now: datetime,
    refs: Mapping[str, PersonRef],
    extra: Mapping[str, Any] | None = None,
    cause: Envelope | None = None,
) -> Event:
    """A ``tickets.events`` message: the snapshot and the type's own members (``extra``),
    keyed by ticket id and sequenced by the ticket's version."""
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


def person_updated(ref: PersonRef, now: datetime) -> Event:
    """``stopclock.person.updated.v1`` with the person as it now is (manager's contact
    included), keyed by person id so one person's changes stay in order."""
    envelope = new_envelope(
        EventType.PERSON_UPDATED, source=SOURCE, subject=ref["id"], time=now, data={"person": ref}
    )
    return PEOPLE_EVENTS, ref["id"], envelope


def outage_data(outage: OutageRecord) -> dict[str, Any]:
    """The outage as ``outages.events`` carry it (`events.outages.OutageData`)."""
    row: Mapping[str, object] = outage  # read by the names below
    data = {name: row[name] for name in ("service", "title", "description", "impact")}
    return {
        "id": str(outage["id"]),
        **data,
        "status": outage["status"],
        "created_at": iso(outage["created_at"]),
        "resolved_at": iso(outage["resolved_at"]),
    }


def outage_event(
    type_: EventType,
    outage: OutageRecord,
    subscribers: list[PersonRef],
    message: str,
    now: datetime,
) -> Event:
    """An ``outages.events`` message, keyed by service: the outage and who to warn."""
    envelope = new_envelope(
        type_,
        source=SOURCE,
        subject=outage["service"],
        time=now,
        data={"outage": outage_data(outage), "subscribers": subscribers, "message": message},
    )
    return OUTAGES_EVENTS, outage["service"], envelope
