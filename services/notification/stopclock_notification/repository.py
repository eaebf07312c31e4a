"""All SQL of the notification service."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    RowMapping,
    Text,
    bindparam,
    column,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from .models import SENDABLE, notifications, preferences

_INSERT_NEW = (
    insert(notifications)
    .on_conflict_do_nothing(index_elements=[notifications.c.dedupe_key])
    .returning(notifications.c.id, notifications.c.kind)
)


async def insert_notifications(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> Sequence[RowMapping]:
    """Insert new mail rows; rows whose dedupe key exists (a redelivered event) are skipped."""
    if not rows:
        return []
    # Parameters apart from the statement: it compiles once and is cached, however many rows.
    return (await session.execute(_INSERT_NEW, list(rows))).mappings().all()


def insert_notifications_sync(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """`insert_notifications` with the sync API (inside a commit hook); how many were new."""
    if not rows:
        return 0
    return len(session.execute(_INSERT_NEW, list(rows)).all())


def _claim_statement() -> Any:
    t = notifications
    due = (
        select(t.c.id)
        .where(t.c.status.in_(SENDABLE), t.c.next_attempt_at <= bindparam("now"))
        .order_by(t.c.next_attempt_at)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )
    return (
        update(t)
        .where(t.c.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=bindparam("lease_until"))
        .returning(*t.c)
    )


# Built once: a sender claims many times a second under load.
_CLAIM = _claim_statement()


async def claim_due(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> Sequence[RowMapping]:
    """Lease up to ``limit`` due rows to the caller until ``lease_until``, oldest due first.

    The lease is the row's ``next_attempt_at``: committed before the send, it keeps other
    senders off the row, and if the caller dies the row is simply due again when it ends.
    """
    params = {"now": now, "lease_until": lease_until, "limit": limit}
    rows = (await session.execute(_CLAIM, params)).mappings().all()
    return sorted(rows, key=lambda r: (r["created_at"], r["id"]))


def _leased(row_id: uuid.UUID, lease_until: datetime) -> Any:
    # Still ours: not finished and nobody re-claimed it after our lease ended.
    t = notifications
    return (t.c.id == row_id) & t.c.status.in_(SENDABLE) & (t.c.next_attempt_at == lease_until)


@dataclass(frozen=True)
class Accepted:
    """A leased row the SMTP server accepted, with the Message-ID it carried and when."""

    row_id: uuid.UUID
    lease_until: datetime
    message_id: str
    sent_at: datetime


def _mark_sent_statement() -> Any:
    # One statement for a whole batch, its rows passed as arrays (a fixed shape: compiled
    # once, prepared once), joined back to the table through unnest.
    t = notifications
    accepted = (
        func.unnest(
            bindparam("ids", type_=ARRAY(UUID(as_uuid=True))),
            bindparam("leases", type_=ARRAY(DateTime(timezone=True))),
            bindparam("message_ids", type_=ARRAY(Text)),
            bindparam("sent_ats", type_=ARRAY(DateTime(timezone=True))),
        )
        .table_valued(
            column("id", UUID(as_uuid=True)),
            column("lease_until", DateTime(timezone=True)),
            column("message_id", Text),
            column("sent_at", DateTime(timezone=True)),
        )
        .render_derived(with_types=False)
        .alias("accepted")
    )
    return (
        update(t)
        .where(
            t.c.id == accepted.c.id,
            t.c.status.in_(SENDABLE),
            t.c.next_attempt_at == accepted.c.lease_until,
        )
        .values(
            status="sent",
            message_id=accepted.c.message_id,
            sent_at=accepted.c.sent_at,
            attempts=t.c.attempts + 1,
        )
        .returning(*t.c)
    )


_MARK_SENT = _mark_sent_statement()


async def mark_sent(session: AsyncSession, accepted: Sequence[Accepted]) -> Sequence[RowMapping]:
    """Record accepted sends in one statement; rows whose lease was lost are left alone."""
    if not accepted:
        return []
    params = {
        "ids": [a.row_id for a in accepted],
        "leases": [a.lease_until for a in accepted],
        "message_ids": [a.message_id for a in accepted],
        "sent_ats": [a.sent_at for a in accepted],
    }
    return (await session.execute(_MARK_SENT, params)).mappings().all()


async def mark_failed(
    session: AsyncSession,
    row_id: uuid.UUID,
    lease_until: datetime,
    *,
    status: str,
    attempts: int,
    error: str,
    next_attempt_at: datetime,
    message_id: str | None,
) -> RowMapping | None:
    """Record a failed attempt (``failed`` to retry, or ``dead``); None if no longer ours."""
    stmt = (
        update(notifications)
        .where(_leased(row_id, lease_until))
        .values(
            status=status,
            attempts=attempts,
            last_error=error,
            next_attempt_at=next_attempt_at,
            message_id=message_id,
        )
        .returning(*notifications.c)
    )
    return (await session.execute(stmt)).mappings().first()


async def release(
    session: AsyncSession, row_ids: Iterable[uuid.UUID], lease_until: datetime, now: datetime
) -> None:
    """Hand leased rows that were not tried back at once (no attempt counted)."""
    ids = list(row_ids)
    if not ids:
        return
    t = notifications
    await session.execute(
        update(t)
        .where(t.c.id.in_(ids), t.c.status.in_(SENDABLE), t.c.next_attempt_at == lease_until)
        .values(next_attempt_at=now)
    )


async def count_unsent(session: AsyncSession) -> int:
    """Rows recorded but not yet sent (pending or failed and to be retried)."""
    t = notifications
    stmt = select(func.count()).select_from(t).where(t.c.status.in_(SENDABLE))
    return int((await session.execute(stmt)).scalar_one())


async def list_notifications(
    session: AsyncSession,
    *,
    ticket_id: str | None,
    recipient: str | None,
    recipient_id: str | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> Sequence[RowMapping]:
    """One page (``limit`` + 1 rows, to tell whether more follow) in (created_at, id) order.

    ``recipient`` matches the address (case-insensitively) or the person id.
    """
    t = notifications
    stmt = select(t)
    if ticket_id is not None:
        stmt = stmt.where(t.c.ticket_id == ticket_id)
    if recipient is not None:
        stmt = stmt.where(
            or_(
                func.lower(t.c.recipient) == recipient.strip().lower(),
                t.c.recipient_id == recipient,
            )
        )
    if recipient_id is not None:
        stmt = stmt.where(t.c.recipient_id == recipient_id)
    if after is not None:
        created, ident = after
        stmt = stmt.where(tuple_(t.c.created_at, t.c.id) > tuple_(created, ident))
    stmt = stmt.order_by(t.c.created_at, t.c.id).limit(limit + 1)
    return (await session.execute(stmt)).mappings().all()


async def opt_outs(session: AsyncSession, person_ids: Iterable[str]) -> dict[str, list[str]]:
    """The opt-out lists of the people among ``person_ids`` who have preferences."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    stmt = select(preferences.c.person_id, preferences.c.opt_out).where(
        preferences.c.person_id.in_(ids)
    )
    return {r.person_id: list(r.opt_out) for r in (await session.execute(stmt)).all()}


async def get_preferences(session: AsyncSession, person_id: str) -> RowMapping | None:
    stmt = select(preferences).where(preferences.c.person_id == person_id)
    return (await session.execute(stmt)).mappings().first()


async def put_preferences(
    session: AsyncSession, person_id: str, opt_out: list[str], now: datetime
) -> RowMapping:
    stmt = (
        insert(preferences)
        .values(person_id=person_id, opt_out=opt_out, updated_at=now)
        .on_conflict_do_update(
            index_elements=[preferences.c.person_id], set_={"opt_out": opt_out, "updated_at": now}
        )
        .returning(*preferences.c)
    )
    return (await session.execute(stmt)).mappings().one()
