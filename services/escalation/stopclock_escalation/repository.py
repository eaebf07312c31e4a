"""All SQL of the escalation service."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, delete, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .models import calendars, escalation_policies, escalations, waiting_episodes

OPEN = "open"

# --- policies ---------------------------------------------------------------------------


async def list_policies(session: AsyncSession) -> Sequence[RowMapping]:
    stmt = select(escalation_policies).order_by(escalation_policies.c.name)
    return (await session.execute(stmt)).mappings().all()


async def upsert_policy(
    session: AsyncSession, name: str, spec: dict[str, Any], now: datetime
) -> tuple[RowMapping, bool]:
    """Create or replace a policy; the flag tells whether it was created."""
    t = escalation_policies
    existed = (await session.execute(select(t.c.name).where(t.c.name == name))).first()
    stmt = (
        insert(t)
        .values(name=name, spec=spec, created_at=now, updated_at=now)
        .on_conflict_do_update(index_elements=[t.c.name], set_={"spec": spec, "updated_at": now})
        .returning(*t.c)
    )
    return (await session.execute(stmt)).mappings().one(), existed is None


async def delete_policy(session: AsyncSession, name: str) -> bool:
    t = escalation_policies
    deleted = await session.execute(delete(t).where(t.c.name == name).returning(t.c.name))
    return deleted.first() is not None


# --- calendars --------------------------------------------------------------------------


async def get_calendar(session: AsyncSession, name: str) -> RowMapping | None:
    stmt = select(calendars).where(calendars.c.name == name)
    return (await session.execute(stmt)).mappings().first()


async def calendar_names(session: AsyncSession) -> list[str]:
    return list((await session.execute(select(calendars.c.name))).scalars().all())


async def upsert_calendar(
    session: AsyncSession, name: str, spec: dict[str, Any], updated_at: datetime
) -> None:
    """Keep the newest definition: an older event replayed late never wins."""
    t = calendars
    stmt = insert(t).values(name=name, spec=spec, updated_at=updated_at)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.name],
        set_={"spec": spec, "updated_at": updated_at, "received_at": func.now()},
        where=t.c.updated_at <= updated_at,
    )
    await session.execute(stmt)


# --- waiting episodes -------------------------------------------------------------------


async def insert_episode(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert an open episode; False when the ticket already has one (kept as it is)."""
    stmt = (
        insert(waiting_episodes)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=[waiting_episodes.c.ticket_id],
            # A literal, not a bound parameter: PostgreSQL must match the partial index's
            # predicate, which a generic plan of a prepared statement cannot.
            index_where=text("state = 'open'"),
        )
        .returning(waiting_episodes.c.id)
    )
    return (await session.execute(stmt)).first() is not None


async def open_episode_of_ticket(
    session: AsyncSession, ticket_id: uuid.UUID, *, for_update: bool = False
) -> RowMapping | None:
    t = waiting_episodes
    stmt = select(t).where(t.c.ticket_id == ticket_id, t.c.state == OPEN)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def get_episode(
    session: AsyncSession, episode_id: uuid.UUID, *, for_update: bool = False
) -> RowMapping | None:
    stmt = select(waiting_episodes).where(waiting_episodes.c.id == episode_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def update_episode(
    session: AsyncSession, episode_id: uuid.UUID, values: dict[str, Any]
) -> None:
    await session.execute(
        update(waiting_episodes)
        .where(waiting_episodes.c.id == episode_id)
        .values(**values, updated_at=func.now())
    )


async def refresh_snapshot(
    session: AsyncSession, ticket_id: uuid.UUID, snapshot: dict[str, Any], version: int
) -> None:
    """Keep the newest ticket snapshot on the open episode (work_blocked may change)."""
    await session.execute(
        _REFRESH_SNAPSHOT,
        {
            "b_ticket": ticket_id,
            "b_version": version,
            "ticket": snapshot,
            "ticket_version": version,
        },
    )


_REFRESH_SNAPSHOT = (  # built once: every ticket event of a waiting ticket runs it
    update(waiting_episodes)
    .where(
        waiting_episodes.c.ticket_id == bindparam("b_ticket"),
        waiting_episodes.c.state == OPEN,
        waiting_episodes.c.ticket_version < bindparam("b_version"),
    )
    .values(updated_at=func.now())
)


async def episodes_of_requester(
    session: AsyncSession, requester_id: str, since: datetime | None = None
) -> Sequence[RowMapping]:
    t = waiting_episodes
    stmt = select(t).where(t.c.requester_id == requester_id)
    if since is not None:
        stmt = stmt.where(t.c.started_at >= since)
    return (await session.execute(stmt.order_by(t.c.started_at))).mappings().all()


async def due_in_partitions(
    session: AsyncSession, partitions: Collection[int]
) -> Sequence[RowMapping]:
    """Open episodes of ``partitions`` with their next due time (for rebuilding timers)."""
    t = waiting_episodes
    stmt = select(t.c.id, t.c.partition, t.c.next_due_at).where(
        t.c.state == OPEN, t.c.partition.in_(list(partitions)), t.c.next_due_at.isnot(None)
    )
    return (await session.execute(stmt)).mappings().all()


async def count_open(session: AsyncSession) -> int:
    t = waiting_episodes
    return int((await session.execute(select(func.count()).where(t.c.state == OPEN))).scalar_one())


# --- escalations ------------------------------------------------------------------------


async def insert_escalation(
    session: AsyncSession,
    *,
    ticket_id: uuid.UUID,
    kind: str,
    level: int,
    detail: str,
    at: datetime,
    episode_id: uuid.UUID | None = None,
) -> None:
    await session.execute(
        insert(escalations).values(
            id=uuid.uuid4(),
            ticket_id=ticket_id,
            episode_id=episode_id,
            kind=kind,
            level=level,
            detail=detail,
            created_at=at,
        )
    )


async def list_escalations(
    session: AsyncSession,
    ticket_id: uuid.UUID | None,
    kind: str | None,
    limit: int,
    after: tuple[datetime, int] | None,
) -> Sequence[RowMapping]:
    t = escalations
    stmt = select(t)
    if ticket_id is not None:
        stmt = stmt.where(t.c.ticket_id == ticket_id)
    if kind is not None:
        stmt = stmt.where(t.c.kind == kind)
    if after is not None:
        created, ident = after
        stmt = stmt.where(tuple_(t.c.created_at, t.c.seq) > tuple_(created, ident))
    stmt = stmt.order_by(t.c.created_at, t.c.seq).limit(limit + 1)
    return (await session.execute(stmt)).mappings().all()
