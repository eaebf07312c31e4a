"""Storage of the ticket service: the `TicketRepository` protocol the use cases see, and
`SqlTicketRepository`, all of the service's SQL.

Rows come back as the typed records of `records` (TypedDicts): SQLAlchemy ``RowMapping``s
here (typed so in `_one`/`_first`/`_all`, as no caller uses their Column keys, at no cost),
dicts in the unit tests' fake.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, Protocol, TypeVar, cast

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy import Sequence as Sequence_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.outbox import Outbox

from .domain import OPEN_STATUSES, Status, TicketType, Visibility
from .events import Event
from .models import (
    comments,
    history,
    incident_numbers,
    outage_updates,
    outages,
    people,
    request_numbers,
    subscribers,
    tickets,
)
from .records import (
    CommentRecord,
    HistoryRecord,
    OpenCount,
    OutageRecord,
    OutageUpdateRecord,
    PersonRecord,
    SubscriptionRecord,
    TicketRecord,
)

__all__ = [
    "After",
    "HistoryEntry",
    "PersonAndManager",
    "Row",
    "SqlTicketRepository",
    "TicketRepository",
]
Row = Mapping[str, Any]  # a row of a joined query, or a history entry about to be written
PersonAndManager = tuple[PersonRecord, PersonRecord | None]
_R = TypeVar("_R")
After = tuple[datetime, uuid.UUID]  # a page's cursor: (created_at, id) of its last item


class HistoryEntry(NamedTuple):
    """One change in a ticket's history: who, what (``changes``), when; ``internal``
    entries are for the desk only."""

    ticket_id: uuid.UUID
    version: int
    action: str
    actor_id: str | None
    changes: Mapping[str, Any]
    created_at: datetime
    internal: bool = False


class TicketRepository(Protocol):
    """What the use cases store and read. Writes never commit (the caller does)."""

    async def upsert_person(
        self, person_id: str, fields: Mapping[str, Any], now: datetime
    ) -> tuple[PersonRecord, bool]:
        """Create or replace a person; the flag tells whether it was created."""
        ...

    async def get_person(self, person_id: str) -> PersonRecord | None: ...

    async def people_with_managers(self, ids: Sequence[str]) -> dict[str, PersonAndManager]:
        """People and their managers in one round trip (for event snapshots)."""
        ...

    async def requester_and_number(
        self, person_id: str, ticket_type: str
    ) -> tuple[PersonRecord, PersonRecord | None, int] | None:
        """The requester (with manager) and the next number of ``ticket_type`` at once; no
        number is drawn for an unknown requester (None)."""
        ...

    async def open_ticket(self, ticket: TicketRecord, entry: Row, event: Event) -> None:
        """Store a new ticket, its first history entry and its event together."""
        ...

    async def lock_ticket_id(self, ticket_id: uuid.UUID) -> None:
        """Until the transaction ends, hold an id whose ticket may not exist yet."""
        ...

    async def get_ticket(
        self, ticket_id: uuid.UUID, *, for_update: bool = False
    ) -> TicketRecord | None: ...

    async def update_ticket(self, ticket_id: uuid.UUID, values: Mapping[str, Any]) -> TicketRecord:
        """Write the changed fields and bump the version once for the whole change."""
        ...

    async def list_tickets(
        self, filters: Mapping[str, str | None], limit: int, after: After | None
    ) -> Sequence[TicketRecord]:
        """Tickets matching every non-None filter, oldest first, ``limit + 1`` at most."""
        ...

    async def add_history(self, entry: HistoryEntry) -> None: ...

    async def list_history(
        self, ticket_id: uuid.UUID, include_internal: bool
    ) -> Sequence[HistoryRecord]: ...

    async def insert_comment(self, values: Mapping[str, Any]) -> CommentRecord: ...

    async def list_comments(
        self, ticket_id: uuid.UUID, public_only: bool, limit: int, after: After | None
    ) -> Sequence[CommentRecord]: ...

    async def subscribe(
        self, service: str, person_id: str, now: datetime
    ) -> SubscriptionRecord: ...

    async def subscribers_of(self, service: str) -> Sequence[PersonRecord]:
        """The people subscribed to ``service``, by id."""
        ...

    async def insert_outage(self, values: Mapping[str, Any]) -> OutageRecord: ...

    async def get_outage(
        self, outage_id: uuid.UUID, *, for_update: bool = False
    ) -> OutageRecord | None: ...

    async def update_outage(
        self, outage_id: uuid.UUID, values: Mapping[str, Any]
    ) -> OutageRecord: ...

    async def add_outage_update(
        self, outage_id: uuid.UUID, kind: str, message: str, now: datetime
    ) -> None: ...

    async def list_outage_updates(self, outage_id: uuid.UUID) -> Sequence[OutageUpdateRecord]: ...

    async def count_open(self) -> Sequence[OpenCount]:
        """``{status, priority, n}`` of the tickets still open."""
        ...


_manager = people.alias("manager")
# Built once: constructing statements per request costs more CPU than running them.
_PEOPLE_AND_MANAGERS = select(people, *[c.label(f"m_{c.name}") for c in _manager.c]).outerjoin(
    _manager, _manager.c.id == people.c.manager_id
)
_PEOPLE_WITH_MANAGERS = _PEOPLE_AND_MANAGERS.where(
    people.c.id.in_(bindparam("ids", expanding=True))
)
_INSERT_HISTORY = insert(history)
_INSERT_COMMENT = insert(comments).returning(*comments.c)
_SELECT_PERSON = select(people).where(people.c.id == bindparam("person_id"))


def _requester_and_number(sequence: Sequence_) -> Select[Any]:
    return _PEOPLE_AND_MANAGERS.where(people.c.id == bindparam("person_id")).add_columns(
        sequence.next_value().label("seq")
    )


# The requester (with manager) and the ticket's number in one round trip.
_REQUESTER_AND_NUMBER: dict[str, Select[Any]] = {
    TicketType.INCIDENT: _requester_and_number(incident_numbers),
    TicketType.SERVICE_REQUEST: _requester_and_number(request_numbers),
}
# Two-key advisory locks live apart from the one-key ones (outbox relay, migrations).
_LOCK_TICKET_ID = text("SELECT pg_advisory_xact_lock(:space, :key)")
_TICKET_ID_LOCK_SPACE = 0x7469636B  # "tick"
_NOT_OPEN = sorted(s.value for s in set(Status) - OPEN_STATUSES)


@cache
def _open_statement(outbox: Outbox) -> Select[Any]:
    """The new ticket, its first history entry and its event: one statement (built once
    per outbox)."""
    ticket = insert(tickets).values({c.name: bindparam(f"t_{c.name}") for c in tickets.c})
    entry = insert(history).values(
        {c: bindparam(f"h_{c}") for c in ("ticket_id", "version", "action", "actor_id")}
        | {"changes": bindparam("h_changes"), "created_at": bindparam("h_created_at")}
    )
    return outbox.with_writes(
        ticket.returning(tickets.c.id).cte("new_ticket"),
        entry.returning(history.c.id).cte("new_history"),
    )


def _person_and_manager(row: Row) -> PersonAndManager:
    # Split a joined row by the `people` columns: each half is a `PersonRecord`.
    person = {c.name: row[c.name] for c in people.c}
    boss = {c.name: row[f"m_{c.name}"] for c in _manager.c} if row["m_id"] else None
    return cast(PersonRecord, person), cast(PersonRecord | None, boss)


class SqlTicketRepository:
    """`TicketRepository` on the service's PostgreSQL database, in ``session``'s
    transaction; ``outbox`` takes the event a new ticket is stored with."""

    __slots__ = ("outbox", "session")

    def __init__(self, session: AsyncSession, outbox: Outbox) -> None:
        self.session = session
        self.outbox = outbox

    # The one place rows become records: a ``RowMapping`` of ``stmt``'s columns read as the
    # record of those columns (``kind``), without copying it.
    async def _one(self, kind: type[_R], stmt: Any, params: Mapping[str, Any] | None = None) -> _R:
        return cast(_R, (await self.session.execute(stmt, params)).mappings().one())

    async def _first(
        self, kind: type[_R], stmt: Any, params: Mapping[str, Any] | None = None
    ) -> _R | None:
        return cast(_R | None, (await self.session.execute(stmt, params)).mappings().first())

    async def _all(self, kind: type[_R], stmt: Any) -> Sequence[_R]:
        return cast(Sequence[_R], (await self.session.execute(stmt)).mappings().all())

    async def _by_id(
        self, kind: type[_R], table: Table, row_id: uuid.UUID, for_update: bool
    ) -> _R | None:
        """The row of ``table`` with this id (locked until commit if ``for_update``)."""
        stmt = select(table).where(table.c.id == row_id)
        return await self._first(kind, stmt.with_for_update() if for_update else stmt)

    async def upsert_person(
        self, person_id: str, fields: Mapping[str, Any], now: datetime
    ) -> tuple[PersonRecord, bool]:
        existed = await self.get_person(person_id) is not None
        upsert = insert(people).values(id=person_id, created_at=now, updated_at=now, **fields)
        stmt = upsert.on_conflict_do_update(
            index_elements=[people.c.id], set_={**fields, "updated_at": now}
        ).returning(*people.c)
        return await self._one(PersonRecord, stmt), not existed

    async def get_person(self, person_id: str) -> PersonRecord | None:
        return await self._first(PersonRecord, _SELECT_PERSON, {"person_id": person_id})

    async def people_with_managers(self, ids: Sequence[str]) -> dict[str, PersonAndManager]:
        if not ids:
            return {}
        rows = await self.session.execute(_PEOPLE_WITH_MANAGERS, {"ids": list(ids)})
        return {row["id"]: _person_and_manager(cast(Row, row)) for row in rows.mappings()}

    async def requester_and_number(
        self, person_id: str, ticket_type: str
    ) -> tuple[PersonRecord, PersonRecord | None, int] | None:
        row = await self._first(dict, _REQUESTER_AND_NUMBER[ticket_type], {"person_id": person_id})
        if row is None:
            return None
        person, boss = _person_and_manager(row)
        return person, boss, int(row["seq"])

    async def open_ticket(self, ticket: TicketRecord, entry: Row, event: Event) -> None:
        params = {f"t_{k}": v for k, v in ticket.items()} | {f"h_{k}": v for k, v in entry.items()}
        await self.session.execute(
            _open_statement(self.outbox), params | self.outbox.params(*event)
        )

    async def lock_ticket_id(self, ticket_id: uuid.UUID) -> None:
        # No row to lock yet: concurrent creations under one id run one after the other.
        key = int.from_bytes(ticket_id.bytes[:4], "big", signed=True)
        await self.session.execute(_LOCK_TICKET_ID, {"space": _TICKET_ID_LOCK_SPACE, "key": key})

    async def get_ticket(
        self, ticket_id: uuid.UUID, *, for_update: bool = False
    ) -> TicketRecord | None:
        return await self._by_id(TicketRecord, tickets, ticket_id, for_update)

    async def update_ticket(self, ticket_id: uuid.UUID, values: Mapping[str, Any]) -> TicketRecord:
        stmt = (
            update(tickets)
            .where(tickets.c.id == ticket_id)
            .values(**values, version=tickets.c.version + 1)
            .returning(*tickets.c)
        )
        return await self._one(TicketRecord, stmt)

    async def list_tickets(
        self, filters: Mapping[str, str | None], limit: int, after: After | None
    ) -> Sequence[TicketRecord]:
        stmt = select(tickets)
        for column, value in filters.items():
            if value is not None:
                stmt = stmt.where(tickets.c[column] == value)
        if after is not None:
            created, ident = after
            stmt = stmt.where(tuple_(tickets.c.created_at, tickets.c.id) > tuple_(created, ident))
        return await self._all(
            TicketRecord, stmt.order_by(tickets.c.created_at, tickets.c.id).limit(limit + 1)
        )

    async def add_history(self, entry: HistoryEntry) -> None:
        await self.session.execute(_INSERT_HISTORY, entry._asdict())

    async def list_history(
        self, ticket_id: uuid.UUID, include_internal: bool
    ) -> Sequence[HistoryRecord]:
        stmt = select(history).where(history.c.ticket_id == ticket_id)
        if not include_internal:
            stmt = stmt.where(history.c.internal.is_(False))
        return await self._all(HistoryRecord, stmt.order_by(history.c.id))

    async def insert_comment(self, values: Mapping[str, Any]) -> CommentRecord:
        return await self._one(CommentRecord, _INSERT_COMMENT, values)

    async def list_comments(
        self, ticket_id: uuid.UUID, public_only: bool, limit: int, after: After | None
    ) -> Sequence[CommentRecord]:
        stmt = select(comments).where(comments.c.ticket_id == ticket_id)
        if public_only:
            stmt = stmt.where(comments.c.visibility == Visibility.PUBLIC.value)
        if after is not None:
            created, ident = after
            stmt = stmt.where(
                or_(
                    comments.c.created_at > created,
                    and_(comments.c.created_at == created, comments.c.id > ident),
                )
            )
        return await self._all(
            CommentRecord, stmt.order_by(comments.c.created_at, comments.c.id).limit(limit + 1)
        )

    async def subscribe(self, service: str, person_id: str, now: datetime) -> SubscriptionRecord:
        stmt = (
            insert(subscribers)
            .values(service=service, person_id=person_id, created_at=now)
            .on_conflict_do_update(
                index_elements=[subscribers.c.service, subscribers.c.person_id],
                set_={"service": service},
            )
            .returning(*subscribers.c)
        )
        return await self._one(SubscriptionRecord, stmt)

    async def subscribers_of(self, service: str) -> Sequence[PersonRecord]:
        stmt = (
            select(people)
            .join(subscribers, subscribers.c.person_id == people.c.id)
            .where(subscribers.c.service == service)
            .order_by(people.c.id)
        )
        return await self._all(PersonRecord, stmt)

    async def insert_outage(self, values: Mapping[str, Any]) -> OutageRecord:
        return await self._one(OutageRecord, insert(outages).values(**values).returning(*outages.c))

    async def get_outage(
        self, outage_id: uuid.UUID, *, for_update: bool = False
    ) -> OutageRecord | None:
        return await self._by_id(OutageRecord, outages, outage_id, for_update)

    async def update_outage(self, outage_id: uuid.UUID, values: Mapping[str, Any]) -> OutageRecord:
        stmt = update(outages).where(outages.c.id == outage_id).values(**values)
        return await self._one(OutageRecord, stmt.returning(*outages.c))

    async def add_outage_update(
        self, outage_id: uuid.UUID, kind: str, message: str, now: datetime
    ) -> None:
        await self.session.execute(
            insert(outage_updates).values(
                outage_id=outage_id, kind=kind, message=message, created_at=now
            )
        )

    async def list_outage_updates(self, outage_id: uuid.UUID) -> Sequence[OutageUpdateRecord]:
        stmt = select(outage_updates).where(outage_updates.c.outage_id == outage_id)
        return await self._all(OutageUpdateRecord, stmt.order_by(outage_updates.c.id))

    async def count_open(self) -> Sequence[OpenCount]:
        stmt = (
            select(tickets.c.status, tickets.c.priority, func.count().label("n"))
            .where(tickets.c.status.notin_(_NOT_OPEN))
            .group_by(tickets.c.status, tickets.c.priority)
        )
        return await self._all(OpenCount, stmt)
