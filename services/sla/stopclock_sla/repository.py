"""All SQL of the sla service."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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

from .models import ticket_clocks

# --- policies and calendars (same shape: name, version, spec, created_at) -----------------


async def heads(
    session: AsyncSession, table: Table, names: Collection[str] | None = None
) -> dict[str, int]:
    """Name -> current (highest) version, for every name or the given ones."""
    stmt = select(table.c.name, func.max(table.c.version)).group_by(table.c.name)
    if names is not None:
        if not names:
            return {}
        stmt = stmt.where(table.c.name.in_(list(names)))
    return {str(n): int(v) for n, v in (await session.execute(stmt)).all()}


async def all_heads(
    session: AsyncSession, first: Table, second: Table
) -> tuple[dict[str, int], dict[str, int]]:
    """`heads` of two tables in one round trip (policies and calendars when a ticket starts)."""
    parts = [
        select(literal(i).label("which"), t.c.name, func.max(t.c.version)).group_by(t.c.name)
        for i, t in enumerate((first, second))
    ]
    found: tuple[dict[str, int], dict[str, int]] = ({}, {})
    for which, name, version in (await session.execute(union_all(*parts))).all():
        found[which][str(name)] = int(version)
    return found


async def versions(
    session: AsyncSession, table: Table, keys: Iterable[tuple[str, int]]
) -> Sequence[RowMapping]:
    """The rows of the given (name, version) pairs."""
    wanted = list(keys)
    if not wanted:
        return []
    stmt = select(table).where(tuple_(table.c.name, table.c.version).in_(wanted))
    return (await session.execute(stmt)).mappings().all()


async def get_version(
    session: AsyncSession, table: Table, name: str, version: int | None = None
) -> RowMapping | None:
    """One version of a policy or calendar (the current one by default)."""
    stmt = select(table).where(table.c.name == name)
    if version is not None:
        stmt = stmt.where(table.c.version == version)
    stmt = stmt.order_by(table.c.version.desc()).limit(1)
    return (await session.execute(stmt)).mappings().first()


async def list_current(
    session: AsyncSession, table: Table, after: str | None, limit: int
) -> Sequence[RowMapping]:
    """Current versions ordered by name, after the cursor name; one row more than `limit`."""
    stmt = select(table).distinct(table.c.name)
    if after is not None:
        stmt = stmt.where(table.c.name > after)
    stmt = stmt.order_by(table.c.name, table.c.version.desc()).limit(limit + 1)
    return (await session.execute(stmt)).mappings().all()


async def insert_version(
    session: AsyncSession,
    table: Table,
    name: str,
    version: int,
    spec: dict[str, Any],
    now: datetime,
) -> RowMapping | None:
    """Add a version; None when it exists already (a concurrent writer or a seed)."""
    stmt = (
        pg_insert(table)
        .values(name=name, version=version, spec=spec, created_at=now)
        .on_conflict_do_nothing()
        .returning(*table.c)
    )
    return (await session.execute(stmt)).mappings().first()


async def lock_name(session: AsyncSession, table: Table, name: str) -> None:
    """Serialise writers of one name until the transaction ends (versions stay dense)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"{table.name}:{name}"}
    )


# --- ticket clocks --------------------------------------------------------------------------


async def get_clocks(
    session: AsyncSession, ticket_id: uuid.UUID, *, for_update: bool = False
) -> RowMapping | None:
    stmt = select(ticket_clocks).where(ticket_clocks.c.ticket_id == ticket_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def lock_many(session: AsyncSession, ticket_ids: Sequence[uuid.UUID]) -> Sequence[RowMapping]:
    """Rows of these tickets, locked in id order (so two lockers never deadlock).

    `aggregate` and `ticket` come back as JSON text: the timer path decodes them with orjson,
    several times faster than the driver's json module on hundreds of rows.
    """
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
    return (await session.execute(stmt)).mappings().all()


# Built once (per-call construction cost more than the statements): the SET/VALUES columns
# come from the parameters.
_INSERT_CLOCKS = insert(ticket_clocks)
_UPDATE_CLOCKS = update(ticket_clocks).where(ticket_clocks.c.ticket_id == bindparam("b_ticket"))


async def insert_clocks(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(_INSERT_CLOCKS, values)


async def update_clocks(
    session: AsyncSession, ticket_id: uuid.UUID, values: dict[str, Any]
) -> None:
    await session.execute(_UPDATE_CLOCKS, {"b_ticket": ticket_id, **values})


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


@dataclass(frozen=True, slots=True)
class TimerRow:
    """A ticket's clocks after a timer fired: the aggregate as JSON text."""

    ticket_id: uuid.UUID
    aggregate: str
    clock_states: Sequence[str]
    next_due: datetime | None


async def update_many(session: AsyncSession, rows: Sequence[TimerRow], now: datetime) -> None:
    """Save several aggregates in one statement (arrays unnested server-side)."""
    if not rows:
        return
    await session.execute(
        _UPDATE_MANY,
        {
            "ids": [r.ticket_id for r in rows],
            "aggregates": [r.aggregate for r in rows],
            "states": [",".join(r.clock_states) for r in rows],
            "dues": [r.next_due for r in rows],
            "now": now,
        },
    )


async def pending_timers(session: AsyncSession, partitions: Collection[int]) -> Sequence[Any]:
    """(ticket_id, partition, next_due) of the tickets of `partitions` that have a timer."""
    t = ticket_clocks
    stmt = select(t.c.ticket_id, t.c.partition, t.c.next_due).where(
        t.c.partition.in_(list(partitions)), t.c.next_due.is_not(None)
    )
    return (await session.execute(stmt)).all()


async def resolution_clocks_page(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    service: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[Any]:
    """(resolution_started_at, ticket_id, aggregate as JSON text) of the tickets whose
    resolution clock started in [start, end) (and whose service is `service`, if given),
    in start order after the key `after`: one page of the pause audit."""
    t = ticket_clocks
    stmt = select(t.c.resolution_started_at, t.c.ticket_id, cast(t.c.aggregate, Text)).where(
        t.c.resolution_started_at >= start, t.c.resolution_started_at < end
    )
    if service is not None:
        stmt = stmt.where(t.c.ticket["service"].astext == service)
    if after is not None:
        stmt = stmt.where(tuple_(t.c.resolution_started_at, t.c.ticket_id) > after)
    stmt = stmt.order_by(t.c.resolution_started_at, t.c.ticket_id).limit(limit)
    return (await session.execute(stmt)).all()


async def count_states(session: AsyncSession) -> dict[str, int]:
    """Clocks by state over every ticket."""
    state = func.unnest(ticket_clocks.c.clock_states).label("state")
    sub = select(state).subquery()
    stmt = select(sub.c.state, func.count()).group_by(sub.c.state)
    return {str(s): int(n) for s, n in (await session.execute(stmt)).all()}


# --- outbox and timer notifications ----------------------------------------------------------

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


async def add_events(
    session: AsyncSession,
    outbox: Outbox,
    items: Sequence[tuple[str, str, Envelope]],
    timer_notes: Sequence[str] = (),
) -> None:
    """`Outbox.add` for many events, plus timer notes, in one statement.

    Same rows and wake-up NOTIFY as `Outbox.add` (the relay cannot tell the difference);
    timer notes go to every replica at commit (NOTIFY is transactional).
    """
    if not items and not timer_notes:
        return
    await session.execute(
        _ADD_EVENTS,
        {
            "ids": [uuid.UUID(env.id) for _, _, env in items],
            "topics": [topic for topic, _, _ in items],
            "keys": [key for _, key, _ in items],
            "payloads": [encode(env) for _, _, env in items],
            "notes": list(timer_notes),
            "timers": TIMERS_CHANNEL,
            "outbox": outbox.channel,
        },
    )
