"""All SQL of the survey service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, and_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .models import answer_tickets, answer_waits, breached_tickets, surveys


async def insert_survey(session: AsyncSession, values: dict[str, Any]) -> RowMapping:
    stmt = insert(surveys).values(**values).returning(*surveys.c)
    return (await session.execute(stmt)).mappings().one()


async def survey_by_digest(
    session: AsyncSession, digest: str, *, for_update: bool = False
) -> RowMapping | None:
    stmt = select(surveys).where(surveys.c.token_digest == digest)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def update_survey(
    session: AsyncSession, survey_id: uuid.UUID, values: dict[str, Any]
) -> RowMapping:
    stmt = update(surveys).where(surveys.c.id == survey_id).values(**values).returning(*surveys.c)
    return (await session.execute(stmt)).mappings().one()


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """Mark every unanswered survey past its expiry as expired; returns how many."""
    stmt = (
        update(surveys)
        .where(surveys.c.status == "sent", surveys.c.expires_at <= now)
        .values(status="expired")
        .returning(surveys.c.id)
    )
    return len((await session.execute(stmt)).all())


async def list_surveys(
    session: AsyncSession,
    ticket_id: uuid.UUID | None,
    requester_id: str | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> Sequence[RowMapping]:
    t = surveys
    stmt = select(t)
    if ticket_id is not None:
        stmt = stmt.where(t.c.ticket_id == ticket_id)
    if requester_id is not None:
        stmt = stmt.where(t.c.requester_id == requester_id)
    if after is not None:
        sent, ident = after
        stmt = stmt.where(tuple_(t.c.sent_at, t.c.id) > tuple_(sent, ident))
    stmt = stmt.order_by(t.c.sent_at, t.c.id).limit(limit + 1)
    return (await session.execute(stmt)).mappings().all()


async def outcomes(
    session: AsyncSession, since: datetime | None, until: datetime | None, service: str | None
) -> Sequence[RowMapping]:
    """Service, breach flag and rating of every survey sent in ``[since, until)``."""
    t, b = surveys, breached_tickets
    stmt = select(
        t.c.service,
        t.c.rating,
        b.c.ticket_id.isnot(None).label("after_breach"),
    ).outerjoin(b, b.c.ticket_id == t.c.ticket_id)
    if since is not None:
        stmt = stmt.where(t.c.sent_at >= since)
    if until is not None:
        stmt = stmt.where(t.c.sent_at < until)
    if service is not None:
        stmt = stmt.where(t.c.service == service)
    return (await session.execute(stmt)).mappings().all()


async def mark_breached(session: AsyncSession, ticket_id: uuid.UUID, at: datetime) -> None:
    stmt = insert(breached_tickets).values(ticket_id=ticket_id, breached_at=at)
    await session.execute(
        stmt.on_conflict_do_nothing(index_elements=[breached_tickets.c.ticket_id])
    )


async def was_breached(session: AsyncSession, ticket_id: uuid.UUID) -> bool:
    stmt = select(breached_tickets.c.ticket_id).where(breached_tickets.c.ticket_id == ticket_id)
    return (await session.execute(stmt)).first() is not None


# -- answer pages ------------------------------------------------------------------------------
async def answer_ticket(
    session: AsyncSession, ticket_id: uuid.UUID, *, for_update: bool = False
) -> RowMapping | None:
    stmt = select(answer_tickets).where(answer_tickets.c.ticket_id == ticket_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def answer_page_rows(
    session: AsyncSession, ticket_id: uuid.UUID, since: datetime
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A ticket's row and the row of its wait begun at ``since``, read in one statement so
    both come from the same snapshot (the replica changes them in one transaction)."""
    t, w = answer_tickets, answer_waits
    stmt = (
        select(t, *[c.label(f"wait_{c.name}") for c in w.c])
        .outerjoin(w, and_(w.c.ticket_id == t.c.ticket_id, w.c.since == since))
        .where(t.c.ticket_id == ticket_id)
    )
    row = (await session.execute(stmt)).mappings().first()
    if row is None:
        return None, None
    ticket = {c.name: row[c.name] for c in t.c}
    if row["wait_since"] is None:
        return ticket, None
    return ticket, {c.name: row[f"wait_{c.name}"] for c in w.c}


async def upsert_answer_ticket(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert or refresh a ticket's row; an older snapshot never overwrites a newer one."""
    stmt = insert(answer_tickets).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[answer_tickets.c.ticket_id],
        set_={k: stmt.excluded[k] for k in values if k != "ticket_id"},
        where=answer_tickets.c.version <= stmt.excluded.version,
    )
    await session.execute(stmt)


async def insert_wait(session: AsyncSession, values: dict[str, Any]) -> None:
    stmt = insert(answer_waits).values(**values)
    await session.execute(
        stmt.on_conflict_do_nothing(index_elements=[answer_waits.c.ticket_id, answer_waits.c.since])
    )


async def end_open_waits(
    session: AsyncSession, ticket_id: uuid.UUID, how: str, at: datetime
) -> None:
    w = answer_waits
    stmt = (
        update(w)
        .where(w.c.ticket_id == ticket_id, w.c.ended_at.is_(None))
        .values(ended_at=at, ended_how=how)
    )
    await session.execute(stmt)


async def ask_in_open_wait(session: AsyncSession, ticket_id: uuid.UUID, question: str) -> None:
    """Give the open wait of a ticket a question when it began without one."""
    w = answer_waits
    stmt = (
        update(w)
        .where(w.c.ticket_id == ticket_id, w.c.ended_at.is_(None), w.c.question.is_(None))
        .values(question=question)
    )
    await session.execute(stmt)


async def wait_of(
    session: AsyncSession, ticket_id: uuid.UUID, since: datetime, *, for_update: bool = False
) -> RowMapping | None:
    w = answer_waits
    stmt = select(w).where(w.c.ticket_id == ticket_id, w.c.since == since)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def record_answer(
    session: AsyncSession, ticket_id: uuid.UUID, since: datetime, values: dict[str, Any]
) -> None:
    w = answer_waits
    stmt = update(w).where(w.c.ticket_id == ticket_id, w.c.since == since).values(**values)
    await session.execute(stmt)
