"""Taking in a mail to the desk: record it, with the commands it causes, in one unit of work.

Record before acting, act once: the ``inbound_mails`` row and the outbox rows of its commands
commit together, and only then does the receiver answer 250. A crash before the commit leaves
no trace and no 250, so the client sends again; a crash after it leaves the commands in the
outbox, which the relay publishes after the restart. A second copy of a mail (same
Message-ID, or the same bytes when it has none) finds its record and does nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from stopclock_shared.events.commands import CommentCommand, OpenTicketCommand
from stopclock_shared.events.topics import TICKETS_COMMANDS

from .. import metrics
from ..domain.inbound import InboundMail, MalformedMail, read_mail, ticket_numbers
from ..domain.inbound_decision import (
    Decision,
    Outcome,
    addressed_to_desk,
    decide,
    decide_bounce,
    is_our_own,
    reply_ticket_ids,
    thread_of,
    ticket_ids_of_references,
)
from ..events import command_event
from ..repository import InboundRecord
from . import NotificationUnitOfWork

RATE_WINDOW = timedelta(hours=1)
SUBJECT_MAX = 998  # RFC 5322 line length; the log keeps no more


@dataclass(frozen=True)
class InboundDesk:
    """What taking in a mail needs of the settings."""

    address: str
    link_key: bytes
    rate_per_hour: int
    keep_raw_bytes: int
    message_id_domain: str


@dataclass(frozen=True)
class Received:
    """A mail as it arrived: its bytes and, over SMTP, the envelope."""

    raw: bytes
    rcpt_tos: tuple[str, ...] = ()
    mail_from: str = ""


class Status(StrEnum):
    ACCEPTED = "accepted"  # recorded (and acted on): SMTP 250
    DUPLICATE = "duplicate"  # taken in before: 250, nothing done
    RATE_LIMITED = "rate_limited"  # recorded as refused: SMTP 450, the client retries


@dataclass(frozen=True)
class Taken:
    status: Status
    inbound_id: uuid.UUID | None = None
    outcome: Outcome | None = None
    ticket_id: str | None = None
    detail: str = ""
    commands: tuple[CommentCommand | OpenTicketCommand, ...] = field(default=())


def dedupe_key(mail: InboundMail | None, raw: bytes) -> str:
    """The Message-ID, or a digest of the bytes for a mail without one."""
    if mail is not None and mail.message_id:
        return mail.message_id[:998]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def sender_of(mail: InboundMail | None, received: Received) -> str:
    if mail is not None:
        return mail.sender[:320]
    return (received.mail_from or "").strip().lower()[:320]


async def _decision(
    uow: NotificationUnitOfWork,
    desk: InboundDesk,
    mail: InboundMail,
    received: Received,
    new_id: uuid.UUID,
) -> Decision:
    """Look up what the mail may concern and decide (loops and bounces first)."""
    if is_our_own(mail.sender, desk.address):
        return Decision(Outcome.REJECTED, "loop: mail from the desk's own address")
    recipients = (*received.rcpt_tos, *mail.recipients)
    if mail.bounce is not None:
        named = [mail.bounce.original_message_id] if mail.bounce.original_message_id else []
        sent = None
        for message_id in (*named, *mail.in_reply_to):
            sent = await uow.repo.sent_mail(message_id)
            if sent is not None:
                break
        return decide_bounce(mail, sent)
    by_reply_address = None
    for tagged in reply_ticket_ids(desk.link_key, desk.address, recipients):
        by_reply_address = await uow.repo.ticket_ref(str(tagged))
        if by_reply_address is not None:
            break
    by_reference = None
    if by_reply_address is None:
        by_reference = await uow.repo.ticket_by_reference(list(mail.in_reply_to))
    if by_reply_address is None and by_reference is None:
        # The thread root every mail of ours names: a reply to a mail we no longer know.
        for rooted in ticket_ids_of_references(mail.in_reply_to, desk.message_id_domain):
            by_reference = await uow.repo.ticket_ref(rooted)
            if by_reference is not None:
                break
    by_number = []
    if by_reply_address is None and by_reference is None:
        by_number = await uow.repo.ticket_refs_by_number(ticket_numbers(mail.subject))
    thread = thread_of(mail, by_reply_address, by_reference, by_number)
    to_desk = addressed_to_desk(recipients, desk.address)
    person = None
    if thread is None and to_desk and not mail.auto_reply:
        person = await uow.repo.person_by_email(mail.sender)
    return decide(mail, thread, sender_person=person, to_desk=to_desk, new_ticket_id=new_id)


# Reading a mail is CPU work (MIME, HTML, quote stripping): a large one is read in a thread,
# so one hostile multi-megabyte mail cannot stall the service's event loop.
READ_IN_THREAD_BYTES = 256 * 1024


async def _read(raw: bytes) -> InboundMail:
    if len(raw) > READ_IN_THREAD_BYTES:
        return await asyncio.to_thread(read_mail, raw)
    return read_mail(raw)


async def take_in(
    uow: NotificationUnitOfWork, desk: InboundDesk, received: Received, now: datetime
) -> Taken:
    """Record one mail and emit the commands it causes (the caller commits)."""
    raw = received.raw
    try:
        mail: InboundMail | None = await _read(raw)
        malformed = ""
    except MalformedMail as exc:
        mail, malformed = None, str(exc) or "malformed mail"
    message_id = dedupe_key(mail, raw)
    if await uow.repo.inbound_taken(message_id):
        metrics.INBOUND_DUPLICATES.inc()
        return Taken(Status.DUPLICATE)
    sender = sender_of(mail, received)
    subject = (mail.subject if mail is not None else "")[:SUBJECT_MAX]
    inbound_id = uuid.uuid4()
    kept = raw if len(raw) <= desk.keep_raw_bytes else None
    # Rejected until decided (a refusal by the rate limit stays so).
    record = InboundRecord(
        inbound_id, now, message_id, sender, subject, len(raw), kept, Outcome.REJECTED, detail=""
    )
    sent_lately = await uow.repo.inbound_count_since(sender, now - RATE_WINDOW)
    if sent_lately >= desk.rate_per_hour:
        detail = f"rate limit: {sent_lately} mails from {sender or 'this sender'} in the last hour"
        await uow.repo.insert_inbound(replace(record, detail=detail, refused=True))
        return Taken(Status.RATE_LIMITED, inbound_id, Outcome.REJECTED, detail=detail)
    if mail is None:
        decision = Decision(Outcome.REJECTED, f"malformed mail: {malformed}")
    else:
        # The id is chosen before the ticket exists: a command delivered twice opens one.
        decision = await _decision(uow, desk, mail, received, uuid.uuid4())
    recorded = replace(
        record,
        ticket_id=decision.ticket_id,
        outcome=decision.outcome,
        detail=decision.detail[:2000],
    )
    if not await uow.repo.insert_inbound(recorded):
        # Another replica took in the same mail meanwhile.
        metrics.INBOUND_DUPLICATES.inc()
        return Taken(Status.DUPLICATE)
    if decision.bounced_message_id:
        await uow.repo.mark_bounced(decision.bounced_message_id, decision.detail)
    for command in decision.commands:
        envelope = command_event(command, now, str(inbound_id))
        await uow.emit(TICKETS_COMMANDS, command.ticket_id, envelope)
    return Taken(
        Status.ACCEPTED,
        inbound_id,
        decision.outcome,
        decision.ticket_id,
        decision.detail,
        decision.commands,
    )
