"""In-memory stand-ins of the notification service's storage and SMTP, for use-case tests.

`FakeNotificationRepository` keeps the same rules as the SQL one where use cases rely on
them: dedupe keys, leases (a row changes only while the caller holds its lease), versions of
replicas, Message-ID dedupe of inbound mail. Mails "at commit" wait until `commit(uow)`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from stopclock_notification.domain.composing import OutgoingMail
from stopclock_notification.domain.inbound_decision import Person, SentMail, TicketRef
from stopclock_notification.repository import (
    Accepted,
    FailedAttempt,
    InboundLogQuery,
    InboundRecord,
    MailLogQuery,
    NewMail,
    PersonPreferences,
    StoredMail,
    TicketReplica,
)
from stopclock_notification.schemas import InboundRead
from stopclock_shared.testing.fakes import FakeUnitOfWork

SENDABLE = ("pending", "failed")


@dataclass
class FakeNotificationRepository:
    mails: dict[str, StoredMail] = field(default_factory=dict)  # by dedupe key
    preferences: dict[str, PersonPreferences] = field(default_factory=dict)
    tickets: dict[str, TicketReplica] = field(default_factory=dict)
    people: dict[str, tuple[str, str, datetime]] = field(default_factory=dict)
    inbound: list[InboundRecord] = field(default_factory=list)
    bounced: list[tuple[str, str]] = field(default_factory=list)
    at_commit: list[NewMail] = field(default_factory=list)
    on_new: list[Callable[[], None]] = field(default_factory=list)

    # -- the outgoing mail log
    def add_mails_at_commit(self, mails: Sequence[NewMail], on_new: Callable[[], None]) -> None:
        if not mails:
            return
        if not self.at_commit:
            self.on_new.append(on_new)
        self.at_commit.extend(mails)

    def commit(self) -> bool:
        """Insert the waiting mails; True when any was new (the SQL commit hook's answer)."""
        new = [m for m in self.at_commit if m.dedupe_key not in self.mails]
        for mail in new:
            self.mails[mail.dedupe_key] = stored_of(mail)
        self.at_commit.clear()
        callbacks, self.on_new = self.on_new, []
        if new:
            for callback in callbacks:
                callback()
        return bool(new)

    async def opt_outs(self, person_ids: Iterable[str]) -> dict[str, list[str]]:
        ids = set(person_ids) & self.preferences.keys()
        return {p: list(self.preferences[p]["opt_out"]) for p in ids}

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[StoredMail]:
        due = sorted(
            (m for m in self.mails.values() if m.status in SENDABLE and m.next_attempt_at <= now),
            key=lambda m: m.next_attempt_at,
        )[:limit]
        claimed = [self._put(replace(m, next_attempt_at=lease_until)) for m in due]
        return sorted(claimed, key=lambda m: (m.created_at, m.id))

    def _put(self, mail: StoredMail) -> StoredMail:
        self.mails[mail.dedupe_key] = mail
        return mail

    def _leased(self, row_id: uuid.UUID, lease_until: datetime) -> StoredMail | None:
        return next(
            (
                m
                for m in self.mails.values()
                if m.id == row_id and m.status in SENDABLE and m.next_attempt_at == lease_until
            ),
            None,
        )

    async def mark_sent(self, accepted: Sequence[Accepted]) -> Sequence[StoredMail]:
        sent = []
        for a in accepted:
            mail = self._leased(a.row_id, a.lease_until)
            if mail is not None:
                sent.append(
                    self._put(
                        replace(
                            mail,
                            status="sent",
                            message_id=a.message_id,
                            sent_at=a.sent_at,
                            attempts=mail.attempts + 1,
                        )
                    )
                )
        return sent

    async def mark_failed(self, failed: FailedAttempt) -> StoredMail | None:
        mail = self._leased(failed.row_id, failed.lease_until)
        if mail is None:
            return None
        return self._put(
            replace(
                mail,
                status=failed.status,
                attempts=failed.attempts,
                last_error=failed.error,
                next_attempt_at=failed.next_attempt_at,
                message_id=failed.message_id,
            )
        )

    async def release(
        self, row_ids: Iterable[uuid.UUID], lease_until: datetime, now: datetime
    ) -> None:
        for row_id in list(row_ids):
            mail = self._leased(row_id, lease_until)
            if mail is not None:
                self._put(replace(mail, next_attempt_at=now))

    async def count_unsent(self) -> int:
        return sum(m.status in SENDABLE for m in self.mails.values())

    async def list_notifications(self, query: MailLogQuery) -> Sequence[StoredMail]:
        q = query
        found = [
            m
            for m in sorted(self.mails.values(), key=lambda m: (m.created_at, m.id))
            if (q.status is None or m.status == q.status)
            and (q.ticket_id is None or m.ticket_id == q.ticket_id)
            and (
                q.recipient is None
                or q.recipient.strip().lower() == m.recipient.lower()
                or m.recipient_id == q.recipient
            )
            and (q.recipient_id is None or m.recipient_id == q.recipient_id)
            and (q.after is None or (m.created_at, m.id) > q.after)
        ]
        return found[: q.limit + 1]

    # -- preferences
    async def get_preferences(self, person_id: str) -> PersonPreferences | None:
        return self.preferences.get(person_id)

    async def put_preferences(
        self, person_id: str, opt_out: list[str], now: datetime
    ) -> PersonPreferences:
        row = PersonPreferences(person_id=person_id, opt_out=opt_out, updated_at=now)
        self.preferences[person_id] = row
        return row

    # -- replicas and inbound mail
    async def upsert_ticket_ref(self, ticket: TicketReplica) -> None:
        known = self.tickets.get(ticket.ticket_id)
        if known is None or known.version < ticket.version:
            self.tickets[ticket.ticket_id] = ticket

    async def upsert_person(self, person_id: str, email: str, name: str, at: datetime) -> None:
        known = self.people.get(person_id)
        if known is None or known[2] <= at:
            self.people[person_id] = (email, name, at)

    async def ticket_ref(self, ticket_id: str) -> TicketRef | None:
        found = self.tickets.get(ticket_id)
        return ref_of(found) if found else None

    async def ticket_refs_by_number(self, numbers: Sequence[str]) -> list[TicketRef]:
        by_number = {t.number: ref_of(t) for t in self.tickets.values()}
        return [by_number[n] for n in numbers if n in by_number]

    async def ticket_by_reference(self, message_ids: Sequence[str]) -> TicketRef | None:
        for message_id in message_ids:
            for mail in self.mails.values():
                if mail.message_id == message_id and mail.ticket_id in self.tickets:
                    return ref_of(self.tickets[mail.ticket_id])
        return None

    async def sent_mail(self, message_id: str) -> SentMail | None:
        found = [m for m in self.mails.values() if m.message_id == message_id]
        if not found:
            return None
        first = min(found, key=lambda m: m.created_at)
        return SentMail(message_id, first.ticket_id, first.recipient)

    async def mark_bounced(self, message_id: str, error: str) -> int:
        hit = [m for m in self.mails.values() if m.message_id == message_id and m.status == "sent"]
        for mail in hit:
            self._put(replace(mail, status="bounced", last_error=error))
        self.bounced.append((message_id, error))
        return len(hit)

    async def person_by_email(self, email: str) -> Person | None:
        matches = [
            (at, pid, address, name)
            for pid, (address, name, at) in self.people.items()
            if address.lower() == email.strip().lower()
        ]
        if not matches:
            return None
        _, pid, address, name = max(matches)
        return Person(pid, address, name)

    async def inbound_taken(self, message_id: str) -> bool:
        return any(r.message_id == message_id and not r.refused for r in self.inbound)

    async def inbound_count_since(self, sender: str, since: datetime) -> int:
        return sum(
            r.sender == sender and r.received_at >= since and not r.refused for r in self.inbound
        )

    async def insert_inbound(self, record: InboundRecord) -> bool:
        if not record.refused and await self.inbound_taken(record.message_id):
            return False
        self.inbound.append(record)
        return True

    async def list_inbound(self, query: InboundLogQuery) -> Sequence[InboundRead]:
        q = query
        found = [
            r
            for r in sorted(self.inbound, key=lambda r: (r.received_at, r.id))
            if (q.ticket_id is None or r.ticket_id == q.ticket_id)
            and (q.sender is None or r.sender == q.sender.strip().lower())
            and (q.after is None or (r.received_at, r.id) > q.after)
        ]
        return [inbound_log_entry(r) for r in found[: q.limit + 1]]


def inbound_log_entry(record: InboundRecord) -> InboundRead:
    return InboundRead(
        id=record.id,
        received_at=record.received_at,
        sender=record.sender,
        subject=record.subject,
        message_id=record.message_id,
        ticket_id=record.ticket_id,
        outcome=record.outcome,
        detail=record.detail,
    )


def stored_of(mail: NewMail) -> StoredMail:
    """The row the SQL repository makes of a new mail."""
    planned = mail.planned
    return StoredMail(
        id=uuid.uuid4(),
        dedupe_key=planned.dedupe_key,
        event_id=mail.event_id,
        event_type=mail.event_type,
        event_time=mail.event_time,
        correlation_id=mail.correlation_id,
        ticket_id=planned.ticket_id,
        kind=planned.kind.value,
        recipient=planned.recipient_email,
        recipient_id=planned.recipient_id,
        locale=planned.locale,
        timezone=planned.timezone,
        context=planned.context,
        subject=mail.subject,
        message_id=None,
        status="pending",
        attempts=0,
        next_attempt_at=mail.created_at,
        last_error=None,
        created_at=mail.created_at,
        sent_at=None,
    )


def ref_of(ticket: TicketReplica) -> TicketRef:
    return TicketRef(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        requester_id=ticket.requester_id,
        requester_email=ticket.requester_email,
        status=ticket.status,
        waiting_reason=ticket.waiting_reason,
    )


FakeUow = FakeUnitOfWork[FakeNotificationRepository]


def new_uow(repo: FakeNotificationRepository | None = None) -> FakeUow:
    return FakeUnitOfWork(repo=repo or FakeNotificationRepository())


def commit(uow: FakeUow) -> None:
    """The caller's commit: the mails waiting for it go in, then the after-commit callbacks."""
    uow.repo.commit()
    uow.commit()


@dataclass
class FakeUnits:
    """A sender's units of work over one fake repository; every unit ends in a commit (an
    exception inside a transaction leaves what it did, which the senders never rely on)."""

    repo: FakeNotificationRepository = field(default_factory=FakeNotificationRepository)
    opened: list[FakeUow] = field(default_factory=list)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeUow]:
        uow = new_uow(self.repo)
        self.opened.append(uow)
        yield uow
        commit(uow)

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[FakeUow]:
        uow = new_uow(self.repo)
        yield uow

    def emitted_types(self) -> list[str]:
        return [t for uow in self.opened for t in uow.types()]


@dataclass
class FakeSmtp:
    """A transport whose sends run ``refuse`` (raise to refuse) and are otherwise accepted."""

    refuse: Callable[[OutgoingMail], None] | None = None
    accepted: list[OutgoingMail] = field(default_factory=list)
    closed: int = 0

    async def send(self, mail: OutgoingMail) -> None:
        if self.refuse is not None:
            self.refuse(mail)
        self.accepted.append(mail)

    async def close(self) -> None:
        self.closed += 1
