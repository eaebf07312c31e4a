"""All SQL of the survey service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .models import breached_tickets, surveys


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
