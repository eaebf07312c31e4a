"""Sending due mails: claim them (a lease), write each (once: the consumer's text when this
process wrote it), and record what the SMTP server said, with the outcome events.

The SMTP conversation itself is the sender loop's (`sender.MailSender`); these use cases are
its storage-side halves, on a unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from stopclock_shared.events.topics import NOTIFICATIONS_EVENTS
from stopclock_shared.events.types import EventType

from ..domain import Failure, MailKind, PlannedMail, RenderedMail, after_failure, render
from ..events import outcome_event
from ..repository import Accepted, FailedAttempt, StoredMail
from ..written_mails import WrittenMails
from . import NotificationUnitOfWork

# What the log row keeps of an error, and what the failure event says of it.
LOGGED_ERROR_CHARS = 2000
ANNOUNCED_ERROR_CHARS = 500


@dataclass
class Attempt:
    """One send of a leased mail: accepted (``accepted_at``) or failed (``failure``)."""

    mail: StoredMail
    message_id: str
    accepted_at: datetime | None = None
    failure: Failure | None = None
    error: str = ""


@dataclass(frozen=True)
class Outcomes:
    """What was recorded: mails now ``sent``, and failed ones (``failed`` or ``dead``)."""

    sent: Sequence[StoredMail]
    failed: Sequence[StoredMail]
    lost: int  # accepted sends whose lease had ended (another sender may send them again)


async def claim_due(
    uow: NotificationUnitOfWork, now: datetime, lease: timedelta, limit: int
) -> Sequence[StoredMail]:
    """Lease up to ``limit`` due mails until ``now + lease``, oldest first.

    Run outside a transaction (the claim is one atomic statement): the lease is recorded
    before the send, so no other sender takes the mail, and if we die it is due again.
    """
    return await uow.repo.claim_due(now, now + lease, limit)


def planned_of(mail: StoredMail) -> PlannedMail:
    """The planned mail a stored row was made from (to write it at send time)."""
    # In PlannedMail's field order: kind, recipient (address, id), language, ticket, event.
    to = (mail.recipient, mail.recipient_id, mail.locale, mail.timezone)
    return PlannedMail(MailKind(mail.kind), *to, mail.ticket_id, mail.event_id, dict(mail.context))


def written_mail(mail: StoredMail, written: WrittenMails | None) -> RenderedMail:
    """The mail's text: as the consumer of this process wrote it, else written now (rendering
    is a pure function of the row: a mail recorded by another replica reads the same)."""
    found = written.take(mail.dedupe_key) if written is not None else None
    return found or render(planned_of(mail))


async def record_outcomes(
    uow: NotificationUnitOfWork,
    attempts: Sequence[Attempt],
    untried: Sequence[StoredMail],
    *,
    now: datetime,
    jitters: Sequence[float],
    max_attempts: int,
) -> Outcomes:
    """Record a batch's sends: ``sent`` (announced), ``failed`` with a retry time, or ``dead``
    (announced as failed); hand the untried mails back at once. Only mails whose lease we
    still hold change; ``jitters``: one per failed attempt, spreading their retries."""
    accepted = [
        Accepted(a.mail.id, a.mail.next_attempt_at, a.message_id, a.accepted_at)
        for a in attempts
        if a.accepted_at is not None
    ]
    sent = await uow.repo.mark_sent(accepted)
    await uow.emit_many(
        NOTIFICATIONS_EVENTS,
        [outcome_event(EventType.NOTIFICATION_SENT, m, m.sent_at or now) for m in sent],
    )
    failed_attempts = [a for a in attempts if a.failure is not None]
    failed = []
    for attempt, jitter in zip(failed_attempts, jitters, strict=True):
        recorded = await _record_failure(uow, attempt, now, jitter, max_attempts)
        if recorded is not None:
            failed.append(recorded)
    for lease_until in {m.next_attempt_at for m in untried}:
        ids = [m.id for m in untried if m.next_attempt_at == lease_until]
        await uow.repo.release(ids, lease_until, now)
    return Outcomes(sent, failed, lost=len(accepted) - len(sent))


async def _record_failure(
    uow: NotificationUnitOfWork, attempt: Attempt, now: datetime, jitter: float, max_attempts: int
) -> StoredMail | None:
    assert attempt.failure is not None
    mail = attempt.mail
    outcome = after_failure(
        mail.attempts, attempt.failure, now=now, jitter=jitter, max_attempts=max_attempts
    )
    recorded = await uow.repo.mark_failed(
        FailedAttempt(
            row_id=mail.id,
            lease_until=mail.next_attempt_at,
            status=outcome.status,
            attempts=outcome.attempts,
            error=attempt.error[:LOGGED_ERROR_CHARS],
            next_attempt_at=outcome.next_attempt_at,
            message_id=attempt.message_id,
        )
    )
    if recorded is not None and outcome.status == "dead":
        error = attempt.error[:ANNOUNCED_ERROR_CHARS]
        event = outcome_event(EventType.NOTIFICATION_FAILED, recorded, now, error)
        await uow.emit_many(NOTIFICATIONS_EVENTS, [event])
    return recorded
