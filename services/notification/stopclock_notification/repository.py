"""All SQL of the notification service: `NotificationRepository` (what use cases may ask of
storage) and `SqlNotificationRepository`, its PostgreSQL implementation on one session.
Use cases see typed records (`StoredMail`, `TicketReplica`, ...) and read models
(`InboundRead`, `PersonPreferences`), never a session; the unit tests run
them on an in-memory fake."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol, TypedDict, cast

from sqlalchemy import (
    ColumnElement,
    DateTime,
    RowMapping,
    Select,
    Text,
    bindparam,
    column,
    event,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from stopclock_shared.db import after_commit
from stopclock_shared.outbox import Outbox
from stopclock_shared.unit_of_work import SqlUnitOfWork

from .domain import PlannedMail
from .domain.inbound_decision import Person, SentMail, TicketRef
from .models import SENDABLE, inbound_mails, notifications, people, preferences, ticket_refs
from .schemas import InboundRead


# Read models the HTTP API shows as they are: the mail log shows `StoredMail`s, the inbound
# log `schemas.InboundRead` rows. Typed dicts, not dataclasses: a page's cursor is read from
# its last row by key (`pagination.page_of`).
class PersonPreferences(TypedDict):
    """A person's opt-outs; ``updated_at`` is None for someone who never chose."""

    person_id: str
    opt_out: list[str]
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewMail:
    """A planned mail to record as ``pending``, due at once (``created_at``)."""

    planned: PlannedMail
    subject: str
    event_id: str
    event_type: str
    event_time: datetime
    correlation_id: str
    created_at: datetime

    @property
    def dedupe_key(self) -> str:
        return self.planned.dedupe_key


@dataclass(frozen=True, slots=True)
class StoredMail:
    """A row of the mail log, as the sender works with it."""

    id: uuid.UUID
    dedupe_key: str
    event_id: str
    event_type: str
    event_time: datetime
    correlation_id: str | None
    ticket_id: str | None
    kind: str
    recipient: str
    recipient_id: str | None
    locale: str
    timezone: str
    context: dict[str, Any]
    subject: str
    message_id: str | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class Accepted:
    """A leased row the SMTP server accepted, with the Message-ID it carried and when."""

    row_id: uuid.UUID
    lease_until: datetime
    message_id: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class FailedAttempt:
    """What to record of a leased row's failed attempt (``failed`` to retry, or ``dead``)."""

    row_id: uuid.UUID
    lease_until: datetime
    status: str
    attempts: int
    error: str
    next_attempt_at: datetime
    message_id: str | None


@dataclass(frozen=True, slots=True)
class TicketReplica:
    """The threading facts of a ticket that inbound mail decides on (a version of them)."""

    ticket_id: str
    number: str
    requester_id: str
    requester_email: str
    requester_locale: str
    status: str
    waiting_reason: str | None
    version: int


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """A mail taken in (or refused), as the inbound log keeps it."""

    id: uuid.UUID
    received_at: datetime
    message_id: str
    sender: str
    subject: str
    raw_size: int
    raw: bytes | None
    outcome: str
    detail: str
    ticket_id: str | None = None
    refused: bool = False


@dataclass(frozen=True, slots=True)
class MailLogQuery:
    """One page of the mail log: ``limit`` + 1 rows (the extra says "more") after ``after``
    in (created_at, id) order. ``recipient`` matches the address (case-insensitively) or the
    person id; ``recipient_id`` only the person id."""

    limit: int
    after: tuple[datetime, uuid.UUID] | None = None
    ticket_id: str | None = None
    recipient: str | None = None
    recipient_id: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class InboundLogQuery:
    """One page of the inbound log (``limit`` + 1 rows) in (received_at, id) order."""

    limit: int
    after: tuple[datetime, uuid.UUID] | None = None
    ticket_id: str | None = None
    sender: str | None = None


class NotificationRepository(Protocol):
    """What the notification use cases may ask of storage."""

    # -- the outgoing mail log
    def add_mails_at_commit(self, mails: Sequence[NewMail], on_new: Callable[[], None]) -> None:
        """Record ``mails`` when the transaction commits (skipping dedupe keys recorded
        before); ``on_new`` runs once after that commit if any of them was new."""
        ...

    async def opt_outs(self, person_ids: Iterable[str]) -> dict[str, list[str]]: ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[StoredMail]: ...

    async def mark_sent(self, accepted: Sequence[Accepted]) -> Sequence[StoredMail]: ...

    async def mark_failed(self, failed: FailedAttempt) -> StoredMail | None: ...

    async def release(
        self, row_ids: Iterable[uuid.UUID], lease_until: datetime, now: datetime
    ) -> None: ...

    async def count_unsent(self) -> int: ...

    async def list_notifications(self, query: MailLogQuery) -> Sequence[StoredMail]: ...

    # -- preferences
    async def get_preferences(self, person_id: str) -> PersonPreferences | None: ...

    async def put_preferences(
        self, person_id: str, opt_out: list[str], now: datetime
    ) -> PersonPreferences: ...

    # -- replicas and inbound mail
    async def upsert_ticket_ref(self, ticket: TicketReplica) -> None: ...

    async def upsert_person(self, person_id: str, email: str, name: str, at: datetime) -> None: ...

    async def ticket_ref(self, ticket_id: str) -> TicketRef | None: ...

    async def ticket_refs_by_number(self, numbers: Sequence[str]) -> list[TicketRef]: ...

    async def ticket_by_reference(self, message_ids: Sequence[str]) -> TicketRef | None: ...

    async def sent_mail(self, message_id: str) -> SentMail | None: ...

    async def mark_bounced(self, message_id: str, error: str) -> int: ...

    async def person_by_email(self, email: str) -> Person | None: ...

    async def inbound_taken(self, message_id: str) -> bool: ...

    async def inbound_count_since(self, sender: str, since: datetime) -> int: ...

    async def insert_inbound(self, record: InboundRecord) -> bool: ...

    async def list_inbound(self, query: InboundLogQuery) -> Sequence[InboundRead]: ...


_INSERT_NEW = (
    insert(notifications)
    .on_conflict_do_nothing(index_elements=[notifications.c.dedupe_key])
    .returning(notifications.c.id)
)


def _insert_params(mail: NewMail) -> dict[str, object]:
    planned = mail.planned
    return {
        "id": uuid.uuid4(),
        "dedupe_key": planned.dedupe_key,
        "event_id": mail.event_id,
        "event_type": mail.event_type,
        "event_time": mail.event_time,
        "correlation_id": mail.correlation_id,
        "ticket_id": planned.ticket_id,
        "kind": planned.kind.value,
        "recipient": planned.recipient_email,
        "recipient_id": planned.recipient_id,
        "locale": planned.locale,
        "timezone": planned.timezone,
        "context": planned.context,
        "subject": mail.subject,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": mail.created_at,
        "created_at": mail.created_at,
    }


def _insert_new(sync: Session, params: list[dict[str, object]]) -> int:
    """Insert mail rows with the sync API (inside a commit hook); how many were new.
    Parameters apart from the statement: it compiles once and is cached, however many rows."""
    return len(sync.execute(_INSERT_NEW, params).all())


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


def _stored(row: RowMapping) -> StoredMail:
    return StoredMail(**row)


# The columns of ``ticket_refs`` that make a `TicketRef` (named as its fields).
_TICKET_REF_COLUMNS = (
    "ticket_id",
    "number",
    "requester_id",
    "requester_email",
    "status",
    "waiting_reason",
)


def _ticket_ref(row: RowMapping) -> TicketRef:
    return TicketRef(**{c: row[c] for c in _TICKET_REF_COLUMNS})


# The inbound log shows exactly the keys of its read model (not the raw mail).
_INBOUND_LOG_COLUMNS = tuple(inbound_mails.c[name] for name in InboundRead.__annotations__)


def _keyset_page(
    stmt: Select[Any],
    at: ColumnElement[datetime],
    ident: ColumnElement[uuid.UUID],
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Select[Any]:
    """``limit`` + 1 rows (the extra says "more") after ``after`` in (at, ident) order."""
    if after is not None:
        stmt = stmt.where(tuple_(at, ident) > tuple_(*after))
    return stmt.order_by(at, ident).limit(limit + 1)


def _preferences(row: RowMapping) -> PersonPreferences:
    return PersonPreferences(
        person_id=row["person_id"], opt_out=list(row["opt_out"]), updated_at=row["updated_at"]
    )


def _values(record: TicketReplica | InboundRecord) -> dict[str, object]:
    """A record's fields by name (they are named as the columns of its table)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


# The mails a transaction records, inserted by its commit (see `add_mails_at_commit`).
_MAILS_AT_COMMIT = "stopclock_notification.mails_at_commit"


@dataclass
class _MailsAtCommit:
    waiting: list[NewMail]
    on_new: Callable[[], None]


class SqlNotificationRepository:
    """`NotificationRepository` on one session (the caller's transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- the outgoing mail log -------------------------------------------------------------
    def add_mails_at_commit(self, mails: Sequence[NewMail], on_new: Callable[[], None]) -> None:
        """The consumer applies a whole poll in one transaction: the mails of all its events
        go in one INSERT, issued by the commit.

        ``before_commit`` runs inside the commit, in SQLAlchemy's greenlet, so the INSERT can
        be issued there with the sync API; if it fails, the commit fails and rolls back, as a
        failing INSERT in the handler would have. A rollback drops the waiting mails.
        """
        if not mails:
            return
        found: _MailsAtCommit | None = self.session.info.get(_MAILS_AT_COMMIT)
        if found is None:
            found = _MailsAtCommit([], on_new)
            self.session.info[_MAILS_AT_COMMIT] = found
            self._insert_at_commit(found)
        found.waiting.extend(mails)

    def _insert_at_commit(self, pending: _MailsAtCommit) -> None:
        session = self.session

        def insert_waiting(sync: Session) -> None:
            params = [_insert_params(m) for m in pending.waiting]
            pending.waiting.clear()
            if params and _insert_new(sync, params):
                after_commit(session, pending.on_new)

        def drop(_: Session) -> None:
            pending.waiting.clear()

        event.listen(session.sync_session, "before_commit", insert_waiting)
        event.listen(session.sync_session, "after_rollback", drop)

    async def opt_outs(self, person_ids: Iterable[str]) -> dict[str, list[str]]:
        """The opt-out lists of the people among ``person_ids`` who have preferences."""
        ids = sorted(set(person_ids))
        if not ids:
            return {}
        stmt = select(preferences.c.person_id, preferences.c.opt_out).where(
            preferences.c.person_id.in_(ids)
        )
        return {r.person_id: list(r.opt_out) for r in (await self.session.execute(stmt)).all()}

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[StoredMail]:
        """Lease up to ``limit`` due rows to the caller until ``lease_until``, oldest first.

        The lease is the row's ``next_attempt_at``: committed before the send, it keeps other
        senders off the row, and if the caller dies the row is simply due again when it ends.
        """
        params = {"now": now, "lease_until": lease_until, "limit": limit}
        rows = (await self.session.execute(_CLAIM, params)).mappings().all()
        return sorted((_stored(r) for r in rows), key=lambda m: (m.created_at, m.id))

    async def mark_sent(self, accepted: Sequence[Accepted]) -> Sequence[StoredMail]:
        """Record accepted sends in one statement; rows whose lease was lost are left alone."""
        if not accepted:
            return []
        params = {
            "ids": [a.row_id for a in accepted],
            "leases": [a.lease_until for a in accepted],
            "message_ids": [a.message_id for a in accepted],
            "sent_ats": [a.sent_at for a in accepted],
        }
        return [_stored(r) for r in (await self.session.execute(_MARK_SENT, params)).mappings()]

    async def mark_failed(self, failed: FailedAttempt) -> StoredMail | None:
        """Record a failed attempt; None if the row is no longer ours (lease lost)."""
        t = notifications
        stmt = (
            update(t)
            .where(
                t.c.id == failed.row_id,
                t.c.status.in_(SENDABLE),
                t.c.next_attempt_at == failed.lease_until,
            )
            .values(
                status=failed.status,
                attempts=failed.attempts,
                last_error=failed.error,
                next_attempt_at=failed.next_attempt_at,
                message_id=failed.message_id,
            )
            .returning(*t.c)
        )
        row = (await self.session.execute(stmt)).mappings().first()
        return _stored(row) if row else None

    async def release(
        self, row_ids: Iterable[uuid.UUID], lease_until: datetime, now: datetime
    ) -> None:
        """Hand leased rows that were not tried back at once (no attempt counted)."""
        ids = list(row_ids)
        if not ids:
            return
        t = notifications
        await self.session.execute(
            update(t)
            .where(t.c.id.in_(ids), t.c.status.in_(SENDABLE), t.c.next_attempt_at == lease_until)
            .values(next_attempt_at=now)
        )

    async def count_unsent(self) -> int:
        """Rows recorded but not yet sent (pending or failed and to be retried)."""
        t = notifications
        stmt = select(func.count()).select_from(t).where(t.c.status.in_(SENDABLE))
        return int((await self.session.execute(stmt)).scalar_one())

    async def list_notifications(self, query: MailLogQuery) -> Sequence[StoredMail]:
        t, q = notifications, query
        stmt = select(t)
        if q.status is not None:
            stmt = stmt.where(t.c.status == q.status)
        if q.ticket_id is not None:
            stmt = stmt.where(t.c.ticket_id == q.ticket_id)
        if q.recipient is not None:
            stmt = stmt.where(
                or_(
                    func.lower(t.c.recipient) == q.recipient.strip().lower(),
                    t.c.recipient_id == q.recipient,
                )
            )
        if q.recipient_id is not None:
            stmt = stmt.where(t.c.recipient_id == q.recipient_id)
        stmt = _keyset_page(stmt, t.c.created_at, t.c.id, q.after, q.limit)
        return [_stored(r) for r in (await self.session.execute(stmt)).mappings()]

    # -- preferences -----------------------------------------------------------------------
    async def get_preferences(self, person_id: str) -> PersonPreferences | None:
        stmt = select(preferences).where(preferences.c.person_id == person_id)
        row = (await self.session.execute(stmt)).mappings().first()
        return _preferences(row) if row else None

    async def put_preferences(
        self, person_id: str, opt_out: list[str], now: datetime
    ) -> PersonPreferences:
        stmt = (
            insert(preferences)
            .values(person_id=person_id, opt_out=opt_out, updated_at=now)
            .on_conflict_do_update(
                index_elements=[preferences.c.person_id],
                set_={"opt_out": opt_out, "updated_at": now},
            )
            .returning(*preferences.c)
        )
        return _preferences((await self.session.execute(stmt)).mappings().one())

    # -- replicas and inbound mail ---------------------------------------------------------
    async def upsert_ticket_ref(self, ticket: TicketReplica) -> None:
        """Keep the newest version of a ticket's threading facts."""
        await self.session.execute(_UPSERT_TICKET_REF, _values(ticket))

    async def upsert_person(self, person_id: str, email: str, name: str, at: datetime) -> None:
        """Keep the newest directory entry of a person (``at``: the event's time)."""
        stmt = insert(people).values(person_id=person_id, email=email, name=name, updated_at=at)
        stmt = stmt.on_conflict_do_update(
            index_elements=[people.c.person_id],
            set_={"email": email, "name": name, "updated_at": at},
            where=people.c.updated_at <= at,
        )
        await self.session.execute(stmt)

    async def ticket_ref(self, ticket_id: str) -> TicketRef | None:
        stmt = select(ticket_refs).where(ticket_refs.c.ticket_id == ticket_id)
        row = (await self.session.execute(stmt)).mappings().first()
        return _ticket_ref(row) if row else None

    async def ticket_refs_by_number(self, numbers: Sequence[str]) -> list[TicketRef]:
        """The tickets of ``numbers``, in the order the numbers are given."""
        if not numbers:
            return []
        stmt = select(ticket_refs).where(ticket_refs.c.number.in_(list(numbers)))
        rows = (await self.session.execute(stmt)).mappings()
        found = {r["number"]: _ticket_ref(r) for r in rows}
        return [found[n] for n in numbers if n in found]

    async def ticket_by_reference(self, message_ids: Sequence[str]) -> TicketRef | None:
        """The ticket of the first of ``message_ids`` that is a mail we sent about a ticket."""
        if not message_ids:
            return None
        n, r = notifications, ticket_refs
        stmt = (
            select(n.c.message_id, r)
            .join(r, r.c.ticket_id == n.c.ticket_id)
            .where(n.c.message_id.in_(list(message_ids)))
        )
        rows = (await self.session.execute(stmt)).mappings()
        found = {row["message_id"]: _ticket_ref(row) for row in rows}
        return next((found[m] for m in message_ids if m in found), None)

    async def sent_mail(self, message_id: str) -> SentMail | None:
        """Our mail with that Message-ID (the one a bounce names), if we sent it."""
        n = notifications
        stmt = (
            select(n.c.message_id, n.c.ticket_id, n.c.recipient)
            .where(n.c.message_id == message_id)
            .order_by(n.c.created_at)
            .limit(1)
        )
        row = (await self.session.execute(stmt)).mappings().first()
        return SentMail(row["message_id"], row["ticket_id"], row["recipient"]) if row else None

    async def mark_bounced(self, message_id: str, error: str) -> int:
        """Our mail(s) with that Message-ID could not be delivered; how many rows changed."""
        stmt = (
            update(notifications)
            .where(notifications.c.message_id == message_id, notifications.c.status == "sent")
            .values(status="bounced", last_error=error)
        )
        result = await self.session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    async def person_by_email(self, email: str) -> Person | None:
        """A directory entry with that address (case-insensitive); the newest if several."""
        stmt = (
            select(people)
            .where(func.lower(people.c.email) == email.strip().lower())
            .order_by(people.c.updated_at.desc())
            .limit(1)
        )
        row = (await self.session.execute(stmt)).mappings().first()
        return Person(row["person_id"], row["email"], row["name"]) if row else None

    async def inbound_taken(self, message_id: str) -> bool:
        """True when a mail with this Message-ID was already taken in (not merely refused)."""
        i = inbound_mails
        stmt = select(i.c.id).where(i.c.message_id == message_id, ~i.c.refused).limit(1)
        return (await self.session.execute(stmt)).first() is not None

    async def inbound_count_since(self, sender: str, since: datetime) -> int:
        """Mails taken in from ``sender`` since ``since`` (refusals do not count)."""
        i = inbound_mails
        stmt = (
            select(func.count())
            .select_from(i)
            .where(i.c.sender == sender, i.c.received_at >= since, ~i.c.refused)
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def insert_inbound(self, record: InboundRecord) -> bool:
        """Record a mail; False when one with its Message-ID was taken in already (a copy)."""
        stmt = insert(inbound_mails).values(_values(record))
        if not record.refused:
            stmt = stmt.on_conflict_do_nothing(
                index_elements=[inbound_mails.c.message_id], index_where=~inbound_mails.c.refused
            )
        found = await self.session.execute(stmt.returning(inbound_mails.c.id))
        return found.first() is not None

    async def list_inbound(self, query: InboundLogQuery) -> Sequence[InboundRead]:
        i, q = inbound_mails, query
        stmt = select(*_INBOUND_LOG_COLUMNS)
        if q.ticket_id is not None:
            stmt = stmt.where(i.c.ticket_id == q.ticket_id)
        if q.sender is not None:
            stmt = stmt.where(i.c.sender == q.sender.strip().lower())
        stmt = _keyset_page(stmt, i.c.received_at, i.c.id, q.after, q.limit)
        rows = (await self.session.execute(stmt)).mappings()
        return [cast(InboundRead, dict(r)) for r in rows]


def sql_unit_of_work(
    session: AsyncSession, outbox: Outbox
) -> SqlUnitOfWork[SqlNotificationRepository]:
    """The unit of work of ``session``'s transaction (owned by the caller)."""
    return SqlUnitOfWork(session, outbox, SqlNotificationRepository(session))


@dataclass(frozen=True)
class SqlUnits:
    """Opens units of work for loops that own their transactions (the senders)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    outbox: Outbox

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlUnitOfWork[SqlNotificationRepository]]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        async with self.sessionmaker() as session, session.begin():
            yield sql_unit_of_work(session, self.outbox)

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[SqlUnitOfWork[SqlNotificationRepository]]:
        """Each statement committed as it runs, without the round trips of a BEGIN and a
        COMMIT around it (for a claim: one UPDATE, atomic by itself)."""
        async with self.sessionmaker() as session:
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            yield sql_unit_of_work(session, self.outbox)
