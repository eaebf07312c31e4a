"""All SQL of the sla service: the `SlaRepository` the use cases see, and its SQL form.

The timer path keeps its batched statements (one locked read, one `UPDATE ... FROM unnest`,
one statement for the outbox rows and the timer notes), so firing many tickets costs a
handful of round trips whatever their number.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, TypedDict

from sqlalchemy import (
    RowMapping,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.events.codec import encode
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.outbox import Outbox
from stopclock_shared.unit_of_work import SqlUnitOfWork

from .models import calendars, policies, ticket_clocks

Kind = Literal["policies", "calendars"]
"""Policies and calendars are stored alike: (name, version, spec, created_at)."""
_TABLES: dict[Kind, Table] = {"policies": policies, "calendars": calendars}
Outgoing = tuple[str, str, Envelope]
"""(topic, key, envelope) of an event to publish."""


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One version of a policy or calendar: `spec` is its API body (normalised)."""

    name: str
    version: int
    spec: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredClocks:
    """A ticket's clocks as stored: the aggregate and the latest ticket snapshot."""

    partition: int
    aggregate: dict[str, Any]
    ticket: dict[str, Any]
    next_due: datetime | None


class ClocksValues(TypedDict):
    """What a ticket event writes to its ticket's row."""

    partition: int
    aggregate: dict[str, Any]
    ticket: dict[str, Any]
    clock_states: list[str]
    next_due: datetime | None
    resolution_started_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LockedClocks:
    """A ticket's row locked by the timer path; `aggregate` and `ticket` as JSON text."""

    ticket_id: uuid.UUID
    partition: int
    aggregate: str
    ticket: str
    clock_states: Sequence[str]
    next_due: datetime | None


@dataclass(frozen=True, slots=True)
class TimerRow:
    """A ticket's clocks after a timer fired: the aggregate as JSON text."""

    ticket_id: uuid.UUID
    aggregate: str
    clock_states: Sequence[str]
    next_due: datetime | None


ResolutionRow = tuple[datetime, uuid.UUID, str]
"""(resolution_started_at, ticket_id, aggregate as JSON text): a row of the pause audit."""
AuditKey = tuple[datetime, uuid.UUID]
"""Where a page of the pause audit ends: (resolution_started_at, ticket_id)."""


@dataclass(frozen=True, slots=True)
class AuditWindow:
    """The resolution clocks a pause audit reads: started in [start, end), of `service`."""

    start: datetime
    end: datetime
    service: str | None = None


class SlaRepository(Protocol):
    """What the sla use cases read and write (SQL: `SqlSlaRepository`; tests: a fake)."""

    async def heads(self, kind: Kind, names: Collection[str] | None = None) -> dict[str, int]:
        """Name -> current (highest) version, for every name or the given ones."""
        ...

    async def current_heads(self) -> tuple[dict[str, int], dict[str, int]]:
        """`heads` of policies and of calendars, read once per transaction."""
        ...

    async def versions(
        self, kind: Kind, keys: Iterable[tuple[str, int]]
    ) -> Sequence[StoredVersion]: ...

    async def get_version(
        self, kind: Kind, name: str, version: int | None = None
    ) -> StoredVersion | None: ...

    async def list_current(
        self, kind: Kind, after: str | None, limit: int
    ) -> Sequence[StoredVersion]:
        """Current versions ordered by name, after `after`; one more than `limit`."""
        ...

    async def insert_version(
        self, kind: Kind, name: str, version: int, spec: dict[str, Any], now: datetime
    ) -> StoredVersion | None:
        """Add a version; None when it exists already (a concurrent writer or a seed)."""
        ...

    async def lock_name(self, kind: Kind, name: str) -> None:
        """Serialise writers of one name until the transaction ends."""
        ...

    async def get_clocks(
        self, ticket_id: uuid.UUID, *, for_update: bool = False
    ) -> StoredClocks | None: ...

    async def insert_clocks(
        self, ticket_id: uuid.UUID, values: ClocksValues, now: datetime
    ) -> None: ...

    async def update_clocks(self, ticket_id: uuid.UUID, values: ClocksValues) -> None: ...

    async def lock_many(self, ticket_ids: Sequence[uuid.UUID]) -> Sequence[LockedClocks]:
        """Rows of these tickets, locked in id order (two lockers never deadlock)."""
        ...

    async def update_many(self, rows: Sequence[TimerRow], now: datetime) -> None: ...

    async def add_events(self, items: Sequence[Outgoing], timer_notes: Sequence[str] = ()) -> None:
        """Events to publish and timer notes to every replica, with the transaction."""
        ...

    async def resolution_clocks_page(
        self, window: AuditWindow, after: AuditKey | None, limit: int
    ) -> Sequence[ResolutionRow]:
        """The window's clocks in start order after the key `after`: a page of the audit."""
        ...


def _stored(row: RowMapping) -> StoredVersion:
    return StoredVersion(row["name"], row["version"], row["spec"], row["created_at"])


_HEADS = "sla_current_heads"  # session.info key: one reading per transaction
# Built once (per-call construction cost more than the statements): the SET/VALUES columns
# come from the parameters.
_INSERT_CLOCKS = insert(ticket_clocks)
_UPDATE_CLOCKS = update(ticket_clocks).where(ticket_clocks.c.ticket_id == bindparam("b_ticket"))
_UPDATE_MANY = text(
    """
    UPDATE ticket_clocks AS t
    SET aggregate = CAST(v.aggregate AS jsonb),
        clock_states = CAST(string_to_array(v.states, ',') AS varchar(16)[]),
        next_due = v.next_due,
        updated_at = :now
    FROM unnest(
        CAST(:ids AS uuid[]), CAST(:aggregates AS text[]),
        CAST(:states AS text[]), CAST(:dues AS timestamptz[])
    ) AS v(ticket_id, aggregate, states, next_due)
    WHERE t.ticket_id = v.ticket_id
    """
)
TIMERS_CHANNEL = "sla_timers"
_ADD_EVENTS = text(
    """
    WITH added AS (
        INSERT INTO outbox (event_id, topic, key, payload)
        SELECT * FROM unnest(
            CAST(:ids AS uuid[]), CAST(:topics AS text[]),
            CAST(:keys AS text[]), CAST(:payloads AS bytea[])
        )
        RETURNING 1
    ), noted AS (
        SELECT pg_notify(:timers, note) FROM unnest(CAST(:notes AS text[])) AS note
    )
    SELECT (SELECT count(*) FROM noted) AS notes,
           CASE WHEN EXISTS (SELECT 1 FROM added) THEN pg_notify(:outbox, '') END AS woken
    """
)


class SqlSlaRepository:
    """`SlaRepository` on one session's transaction."""

    def __init__(self, session: AsyncSession, outbox: Outbox) -> None:
        self.session = session
        self.outbox_channel = outbox.channel

    # --- policies and calendars --------------------------------------------------------

    async def heads(self, kind: Kind, names: Collection[str] | None = None) -> dict[str, int]:
        table = _TABLES[kind]
        stmt = select(table.c.name, func.max(table.c.version)).group_by(table.c.name)
        if names is not None:
            if not names:
                return {}
            stmt = stmt.where(table.c.name.in_(list(names)))
        return {str(n): int(v) for n, v in (await self.session.execute(stmt)).all()}

    async def current_heads(self) -> tuple[dict[str, int], dict[str, int]]:
        # Read once per transaction: a consumer's poll of many tickets shares it, and a
        # PUT committed meanwhile applies from the next poll. Both tables in one round trip.
        found: tuple[dict[str, int], dict[str, int]] | None = self.session.info.get(_HEADS)
        if found is not None:
            return found
        parts = [
            select(literal(i).label("which"), t.c.name, func.max(t.c.version)).group_by(t.c.name)
            for i, t in enumerate((policies, calendars))
        ]
        found = ({}, {})
        for which, name, version in (await self.session.execute(union_all(*parts))).all():
            found[which][str(name)] = int(version)
        self.session.info[_HEADS] = found
        return found

    async def versions(
        self, kind: Kind, keys: Iterable[tuple[str, int]]
    ) -> Sequence[StoredVersion]:
        wanted = list(keys)
        if not wanted:
            return []
        table = _TABLES[kind]
        stmt = select(table).where(tuple_(table.c.name, table.c.version).in_(wanted))
        return [_stored(r) for r in (await self.session.execute(stmt)).mappings().all()]

    async def get_version(
        self, kind: Kind, name: str, version: int | None = None
    ) -> StoredVersion | None:
        table = _TABLES[kind]
        stmt = select(table).where(table.c.name == name)
        if version is not None:
            stmt = stmt.where(table.c.version == version)
        stmt = stmt.order_by(table.c.version.desc()).limit(1)
        row = (await self.session.execute(stmt)).mappings().first()
        return None if row is None else _stored(row)

    async def list_current(
        self, kind: Kind, after: str | None, limit: int
    ) -> Sequence[StoredVersion]:
        table = _TABLES[kind]
        stmt = select(table).distinct(table.c.name)
        if after is not None:
            stmt = stmt.where(table.c.name > after)
        stmt = stmt.order_by(table.c.name, table.c.version.desc()).limit(limit + 1)
        return [_stored(r) for r in (await self.session.execute(stmt)).mappings().all()]

    async def insert_version(
        self, kind: Kind, name: str, version: int, spec: dict[str, Any], now: datetime
    ) -> StoredVersion | None:
        table = _TABLES[kind]
        stmt = (
            pg_insert(table)
            .values(name=name, version=version, spec=spec, created_at=now)
            .on_conflict_do_nothing()
            .returning(*table.c)
        )
        row = (await self.session.execute(stmt)).mappings().first()
        return None if row is None else _stored(row)

    async def lock_name(self, kind: Kind, name: str) -> None:
        # Versions stay dense: one writer of a name at a time.
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"{kind}:{name}"}
        )

    # --- ticket clocks -----------------------------------------------------------------

    async def get_clocks(
        self, ticket_id: uuid.UUID, *, for_update: bool = False
    ) -> StoredClocks | None:
        t = ticket_clocks
        stmt = select(t.c.partition, t.c.aggregate, t.c.ticket, t.c.next_due).where(
            t.c.ticket_id == ticket_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).first()
        return None if row is None else StoredClocks(*row)

    async def insert_clocks(
        self, ticket_id: uuid.UUID, values: ClocksValues, now: datetime
    ) -> None:
        await self.session.execute(
            _INSERT_CLOCKS, {"ticket_id": ticket_id, "created_at": now, **values}
        )

    async def update_clocks(self, ticket_id: uuid.UUID, values: ClocksValues) -> None:
        await self.session.execute(_UPDATE_CLOCKS, {"b_ticket": ticket_id, **values})

    async def lock_many(self, ticket_ids: Sequence[uuid.UUID]) -> Sequence[LockedClocks]:
        # `aggregate` and `ticket` come back as JSON text: the timer path decodes them with
        # orjson, several times faster than the driver's json module on hundreds of rows.
        t = ticket_clocks
        stmt = (
            select(
                t.c.ticket_id,
                t.c.partition,
                cast(t.c.aggregate, Text).label("aggregate"),
                cast(t.c.ticket, Text).label("ticket"),
                t.c.clock_states,
                t.c.next_due,
            )
            .where(t.c.ticket_id.in_(list(ticket_ids)))
            .order_by(t.c.ticket_id)
            .with_for_update()
        )
        return [LockedClocks(*row) for row in (await self.session.execute(stmt)).all()]

    async def update_many(self, rows: Sequence[TimerRow], now: datetime) -> None:
        """Save several aggregates in one statement (arrays unnested server-side)."""
        if not rows:
            return
        await self.session.execute(
            _UPDATE_MANY,
            {
                "ids": [r.ticket_id for r in rows],
                "aggregates": [r.aggregate for r in rows],
                "states": [",".join(r.clock_states) for r in rows],
                "dues": [r.next_due for r in rows],
                "now": now,
            },
        )

    async def add_events(self, items: Sequence[Outgoing], timer_notes: Sequence[str] = ()) -> None:
        """`Outbox.add` for many events, plus timer notes, in one statement.

        Same rows and wake-up NOTIFY as `Outbox.add` (the relay cannot tell the difference);
        timer notes go to every replica at commit (NOTIFY is transactional).
        """
        if not items and not timer_notes:
            return
        await self.session.execute(
            _ADD_EVENTS,
            {
                "ids": [uuid.UUID(env.id) for _, _, env in items],
                "topics": [topic for topic, _, _ in items],
                "keys": [key for _, key, _ in items],
                "payloads": [encode(env) for _, _, env in items],
                "notes": list(timer_notes),
                "timers": TIMERS_CHANNEL,
                "outbox": self.outbox_channel,
            },
        )

    async def resolution_clocks_page(
        self, window: AuditWindow, after: AuditKey | None, limit: int
    ) -> Sequence[ResolutionRow]:
        t = ticket_clocks
        stmt = select(t.c.resolution_started_at, t.c.ticket_id, cast(t.c.aggregate, Text)).where(
            t.c.resolution_started_at >= window.start, t.c.resolution_started_at < window.end
        )
        if window.service is not None:
            stmt = stmt.where(t.c.ticket["service"].astext == window.service)
        if after is not None:
            stmt = stmt.where(tuple_(t.c.resolution_started_at, t.c.ticket_id) > after)
        stmt = stmt.order_by(t.c.resolution_started_at, t.c.ticket_id).limit(limit)
        return [(r[0], r[1], r[2]) for r in (await self.session.execute(stmt)).all()]


def unit_of_work(session: AsyncSession, outbox: Outbox) -> SqlUnitOfWork[SqlSlaRepository]:
    """The unit of work of one transaction of the sla service."""
    return SqlUnitOfWork(session, outbox, SqlSlaRepository(session, outbox))


# --- outside the use cases: the timers' load and the clocks gauge ---------------------------


async def pending_timers(session: AsyncSession, partitions: Collection[int]) -> Sequence[Any]:
    """(ticket_id, partition, next_due) of the tickets of `partitions` that have a timer."""
    t = ticket_clocks
    stmt = select(t.c.ticket_id, t.c.partition, t.c.next_due).where(
        t.c.partition.in_(list(partitions)), t.c.next_due.is_not(None)
    )
    return (await session.execute(stmt)).all()


async def count_states(session: AsyncSession) -> dict[str, int]:
    """Clocks by state over every ticket."""
    state = func.unnest(ticket_clocks.c.clock_states).label("state")
    sub = select(state).subquery()
    stmt = select(sub.c.state, func.count()).group_by(sub.c.state)
    return {str(s): int(n) for s, n in (await session.execute(stmt)).all()}
