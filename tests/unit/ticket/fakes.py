"""An in-memory `TicketRepository` for the use cases' unit tests (cosmicpython's
FakeRepository), and the unit of work that carries it.

It keeps what the SQL repository keeps, as dicts, with the same observable rules: a version
bumped once per `update_ticket`, numbers drawn per ticket type, pages of ``limit + 1`` in
(created_at, id) order, internal history hidden on request.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from stopclock_shared.events.envelope import Envelope
from stopclock_shared.testing.fakes import FakeUnitOfWork
from stopclock_ticket.domain import OPEN_STATUSES
from stopclock_ticket.records import (
    CommentRecord,
    HistoryRecord,
    OpenCount,
    OutageRecord,
    OutageUpdateRecord,
    PersonRecord,
    SubscriptionRecord,
    TicketRecord,
)
from stopclock_ticket.repository import (
    After,
    HistoryEntry,
    PersonAndManager,
    Row,
    TicketRepository,
)

Dict = dict[str, Any]
R = TypeVar("R")


def _record(kind: type[R], row: Mapping[str, Any]) -> R:
    """A copy of a stored dict, as the record the SQL repository returns."""
    return cast(R, dict(row))


@dataclass
class FakeTicketRepository:
    people: dict[str, Dict] = field(default_factory=dict)
    tickets: dict[uuid.UUID, Dict] = field(default_factory=dict)
    history: list[Dict] = field(default_factory=list)
    comments: list[Dict] = field(default_factory=list)
    subscriptions: dict[tuple[str, str], Dict] = field(default_factory=dict)
    outages: dict[uuid.UUID, Dict] = field(default_factory=dict)
    outage_updates: list[Dict] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)
    locked: list[uuid.UUID] = field(default_factory=list)
    # Where the event stored with a new ticket goes: the unit of work's `emitted` (see
    # `unit_of_work`), so a test reads every event in the order it was written.
    outbox: list[tuple[str, str, Envelope]] = field(default_factory=list)

    # --- people ---

    async def upsert_person(
        self, person_id: str, fields: Mapping[str, Any], now: datetime
    ) -> tuple[PersonRecord, bool]:
        known = self.people.get(person_id)
        created_at = known["created_at"] if known else now
        self.people[person_id] = {
            "id": person_id,
            **fields,
            "created_at": created_at,
            "updated_at": now,
        }
        return _record(PersonRecord, self.people[person_id]), known is None

    async def get_person(self, person_id: str) -> PersonRecord | None:
        found = self.people.get(person_id)
        return _record(PersonRecord, found) if found else None

    async def people_with_managers(self, ids: Sequence[str]) -> dict[str, PersonAndManager]:
        found: dict[str, PersonAndManager] = {}
        for pid in ids:
            if pid in self.people:
                person = self.people[pid]
                boss = self.people.get(person["manager_id"] or "")
                found[pid] = (
                    _record(PersonRecord, person),
                    _record(PersonRecord, boss) if boss else None,
                )
        return found

    # --- tickets ---

    async def requester_and_number(
        self, person_id: str, ticket_type: str
    ) -> tuple[PersonRecord, PersonRecord | None, int] | None:
        found = await self.people_with_managers([person_id])
        if person_id not in found:
            return None
        self.numbers[ticket_type] = self.numbers.get(ticket_type, 0) + 1
        person, manager = found[person_id]
        return person, manager, self.numbers[ticket_type]

    async def open_ticket(
        self, ticket: TicketRecord, entry: Row, event: tuple[str, str, Envelope]
    ) -> None:
        assert ticket["id"] not in self.tickets, "a ticket id is stored once"
        self.tickets[ticket["id"]] = dict(ticket)
        self.history.append({"id": len(self.history) + 1, "internal": False, **entry})
        self.outbox.append(event)

    async def lock_ticket_id(self, ticket_id: uuid.UUID) -> None:
        self.locked.append(ticket_id)

    async def get_ticket(
        self, ticket_id: uuid.UUID, *, for_update: bool = False
    ) -> TicketRecord | None:
        found = self.tickets.get(ticket_id)
        return _record(TicketRecord, found) if found else None

    async def update_ticket(self, ticket_id: uuid.UUID, values: Mapping[str, Any]) -> TicketRecord:
        ticket = self.tickets[ticket_id]
        ticket.update(values)
        ticket["version"] += 1
        return _record(TicketRecord, ticket)

    async def list_tickets(
        self, filters: Mapping[str, str | None], limit: int, after: After | None
    ) -> Sequence[TicketRecord]:
        rows = [
            t
            for t in self.tickets.values()
            if all(v is None or t[k] == v for k, v in filters.items())
        ]
        return _page(TicketRecord, rows, limit, after)

    async def add_history(self, entry: HistoryEntry) -> None:
        self.history.append({"id": len(self.history) + 1, **entry._asdict()})

    async def list_history(
        self, ticket_id: uuid.UUID, include_internal: bool
    ) -> Sequence[HistoryRecord]:
        return [
            _record(HistoryRecord, h)
            for h in self.history
            if h["ticket_id"] == ticket_id and (include_internal or not h["internal"])
        ]

    async def insert_comment(self, values: Mapping[str, Any]) -> CommentRecord:
        self.comments.append(dict(values))
        return _record(CommentRecord, values)

    async def list_comments(
        self, ticket_id: uuid.UUID, public_only: bool, limit: int, after: After | None
    ) -> Sequence[CommentRecord]:
        rows = [
            c
            for c in self.comments
            if c["ticket_id"] == ticket_id and (not public_only or c["visibility"] == "public")
        ]
        return _page(CommentRecord, rows, limit, after)

    async def count_open(self) -> Sequence[OpenCount]:
        counts: dict[tuple[str, str], int] = {}
        for t in self.tickets.values():
            if t["status"] in OPEN_STATUSES:
                key = (t["status"], t["priority"])
                counts[key] = counts.get(key, 0) + 1
        return [OpenCount(status=s, priority=p, n=n) for (s, p), n in sorted(counts.items())]

    # --- outages and subscriptions ---

    async def subscribe(self, service: str, person_id: str, now: datetime) -> SubscriptionRecord:
        row = {"service": service, "person_id": person_id, "created_at": now}
        return _record(SubscriptionRecord, self.subscriptions.setdefault((service, person_id), row))

    async def subscribers_of(self, service: str) -> Sequence[PersonRecord]:
        ids = sorted(pid for s, pid in self.subscriptions if s == service)
        return [_record(PersonRecord, self.people[pid]) for pid in ids]

    async def insert_outage(self, values: Mapping[str, Any]) -> OutageRecord:
        self.outages[values["id"]] = {"resolved_at": None, **values}
        return _record(OutageRecord, self.outages[values["id"]])

    async def get_outage(
        self, outage_id: uuid.UUID, *, for_update: bool = False
    ) -> OutageRecord | None:
        found = self.outages.get(outage_id)
        return _record(OutageRecord, found) if found else None

    async def update_outage(self, outage_id: uuid.UUID, values: Mapping[str, Any]) -> OutageRecord:
        self.outages[outage_id].update(values)
        return _record(OutageRecord, self.outages[outage_id])

    async def add_outage_update(
        self, outage_id: uuid.UUID, kind: str, message: str, now: datetime
    ) -> None:
        update = {
            "id": len(self.outage_updates) + 1,
            "outage_id": outage_id,
            "kind": kind,
            "message": message,
            "created_at": now,
        }
        self.outage_updates.append(update)

    async def list_outage_updates(self, outage_id: uuid.UUID) -> Sequence[OutageUpdateRecord]:
        return [
            _record(OutageUpdateRecord, u)
            for u in self.outage_updates
            if u["outage_id"] == outage_id
        ]


def _page(kind: type[R], rows: list[Dict], limit: int, after: After | None) -> list[R]:
    ordered = sorted(rows, key=lambda r: (r["created_at"], r["id"]))
    if after is not None:
        ordered = [r for r in ordered if (r["created_at"], r["id"]) > after]
    return [_record(kind, r) for r in ordered[: limit + 1]]


TicketUow = FakeUnitOfWork[FakeTicketRepository]


def unit_of_work() -> TicketUow:
    """A fresh fake unit of work whose repository writes a new ticket's event to the
    unit's ``emitted``, as the SQL repository writes it to the outbox."""
    uow = FakeUnitOfWork(repo=FakeTicketRepository())
    uow.repo.outbox = uow.emitted
    return uow


# The fake is a TicketRepository (checked by mypy when the tests are type-checked).
_conforms: TicketRepository = FakeTicketRepository()
