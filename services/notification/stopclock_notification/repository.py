"""All SQL of the notification service."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
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

from .domain.inbound_decision import Person, SentMail, TicketRef
from .models import SENDABLE, inbound_mails, notifications, people, preferences, ticket_refs

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
    status: str | None = None,
) -> Sequence[RowMapping]:
    """One page (``limit`` + 1 rows, to tell whether more follow) in (created_at, id) order.

    ``recipient`` matches the address (case-insensitively) or the person id.
    """
    t = notifications
    stmt = select(t)
    if status is not None:
        stmt = stmt.where(t.c.status == status)
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


# -- inbound mail and the replicas it decides on ---------------------------------------------
_UPSERT_TICKET_REF = (
    insert(ticket_refs)
    .values({c.name: bindparam(c.name) for c in ticket_refs.c})
    .on_conflict_do_update(
        index_elements=[ticket_refs.c.ticket_id],
        set_={
            c.name: insert(ticket_refs).excluded[c.name]
            for c in ticket_refs.c
            if c.name != "ticket_id"
        },
        # Event-carried state: an older version arriving late changes nothing.
        where=ticket_refs.c.version < insert(ticket_refs).excluded.version,
    )
)


async def upsert_ticket_ref(session: AsyncSession, ticket: Mapping[str, Any]) -> None:
    """Keep the newest version of a ticket's threading facts (from a ticket snapshot)."""
    requester = ticket["requester"]
    params = {
        "ticket_id": str(ticket["id"]),
        "number": ticket["number"],
        "requester_id": requester["id"],
        "requester_email": requester["email"],
        "requester_locale": requester.get("locale") or "en",
        "status": ticket["status"],
        "waiting_reason": ticket.get("waiting_reason"),
        "version": int(ticket["version"]),
    }
    await session.execute(_UPSERT_TICKET_REF, params)


async def upsert_person(
    session: AsyncSession, person_id: str, email: str, name: str, at: datetime
) -> None:
    """Keep the newest directory entry of a person (``at``: the event's time)."""
    stmt = insert(people).values(person_id=person_id, email=email, name=name, updated_at=at)
    stmt = stmt.on_conflict_do_update(
        index_elements=[people.c.person_id],
        set_={"email": email, "name": name, "updated_at": at},
        where=people.c.updated_at <= at,
    )
    await session.execute(stmt)


def _ticket_ref(row: RowMapping) -> TicketRef:
    return TicketRef(
        ticket_id=row["ticket_id"],
        number=row["number"],
        requester_id=row["requester_id"],
        requester_email=row["requester_email"],
        status=row["status"],
        waiting_reason=row["waiting_reason"],
    )


async def ticket_ref(session: AsyncSession, ticket_id: str) -> TicketRef | None:
    stmt = select(ticket_refs).where(ticket_refs.c.ticket_id == ticket_id)
    row = (await session.execute(stmt)).mappings().first()
    return _ticket_ref(row) if row else None


async def ticket_refs_by_number(session: AsyncSession, numbers: Sequence[str]) -> list[TicketRef]:
    """The tickets of ``numbers``, in the order the numbers are given."""
    if not numbers:
        return []
    stmt = select(ticket_refs).where(ticket_refs.c.number.in_(list(numbers)))
    found = {r["number"]: _ticket_ref(r) for r in (await session.execute(stmt)).mappings()}
    return [found[n] for n in numbers if n in found]


async def ticket_by_reference(
    session: AsyncSession, message_ids: Sequence[str]
) -> TicketRef | None:
    """The ticket of the first of ``message_ids`` that is a mail we sent about a ticket."""
    if not message_ids:
        return None
    n, r = notifications, ticket_refs
    stmt = (
        select(n.c.message_id, r)
        .join(r, r.c.ticket_id == n.c.ticket_id)
        .where(n.c.message_id.in_(list(message_ids)))
    )
    found = {
        row["message_id"]: _ticket_ref(row) for row in (await session.execute(stmt)).mappings()
    }
    return next((found[m] for m in message_ids if m in found), None)


async def sent_mail(session: AsyncSession, message_id: str) -> SentMail | None:
    """Our mail with that Message-ID (the one a bounce names), if we sent it."""
    n = notifications
    stmt = (
        select(n.c.message_id, n.c.ticket_id, n.c.recipient)
        .where(n.c.message_id == message_id)
        .order_by(n.c.created_at)
        .limit(1)
    )
    row = (await session.execute(stmt)).mappings().first()
    return SentMail(row["message_id"], row["ticket_id"], row["recipient"]) if row else None


async def mark_bounced(session: AsyncSession, message_id: str, error: str) -> int:
    """Our mail(s) with that Message-ID could not be delivered; how many rows changed."""
    stmt = (
        update(notifications)
        .where(notifications.c.message_id == message_id, notifications.c.status == "sent")
        .values(status="bounced", last_error=error)
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def person_by_email(session: AsyncSession, email: str) -> Person | None:
    """A directory entry with that address (case-insensitive); the newest if several."""
    stmt = (
        select(people)
        .where(func.lower(people.c.email) == email.strip().lower())
        .order_by(people.c.updated_at.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).mappings().first()
    return Person(row["person_id"], row["email"], row["name"]) if row else None


async def inbound_taken(session: AsyncSession, message_id: str) -> bool:
    """True when a mail with this Message-ID was already taken in (not merely refused)."""
    i = inbound_mails
    stmt = select(i.c.id).where(i.c.message_id == message_id, ~i.c.refused).limit(1)
    return (await session.execute(stmt)).first() is not None


async def inbound_count_since(session: AsyncSession, sender: str, since: datetime) -> int:
    """Mails taken in from ``sender`` since ``since`` (refusals do not count)."""
    i = inbound_mails
    stmt = (
        select(func.count())
        .select_from(i)
        .where(i.c.sender == sender, i.c.received_at >= since, ~i.c.refused)
    )
    return int((await session.execute(stmt)).scalar_one())


async def insert_inbound(session: AsyncSession, row: Mapping[str, Any]) -> bool:
    """Record a mail; False when one with its Message-ID was taken in already (a copy)."""
    stmt = insert(inbound_mails).values(dict(row))
    if not row.get("refused"):
        stmt = stmt.on_conflict_do_nothing(
            index_elements=[inbound_mails.c.message_id], index_where=~inbound_mails.c.refused
        )
    return (await session.execute(stmt.returning(inbound_mails.c.id))).first() is not None


async def list_inbound(
    session: AsyncSession,
    *,
    ticket_id: str | None,
    sender: str | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> Sequence[RowMapping]:
    """One page (``limit`` + 1 rows) of the inbound log in (received_at, id) order."""
    i = inbound_mails
    stmt = select(
        i.c.id,
        i.c.received_at,
        i.c.sender,
        i.c.subject,
        i.c.message_id,
        i.c.ticket_id,
        i.c.outcome,
        i.c.detail,
    )
    if ticket_id is not None:
        stmt = stmt.where(i.c.ticket_id == ticket_id)
    if sender is not None:
        stmt = stmt.where(i.c.sender == sender.strip().lower())
    if after is not None:
        received, ident = after
        stmt = stmt.where(tuple_(i.c.received_at, i.c.id) > tuple_(received, ident))
    stmt = stmt.order_by(i.c.received_at, i.c.id).limit(limit + 1)
    return (await session.execute(stmt)).mappings().all()
