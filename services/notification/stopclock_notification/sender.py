"""The sender: claims due mail rows, writes them and hands them to the SMTP server.

Delivery is at-least-once with a deterministic Message-ID:

1. claim: a short transaction leases due rows (``next_attempt_at`` = now + lease) and
   commits, so the row is recorded before the send and no other sender takes it;
2. send over SMTP, only while the lease has room for a whole send;
3. record: ``sent`` (+ ``notification.sent.v1`` through the outbox) or ``failed``/``dead``,
   conditional on still holding the lease; the outcomes of a batch are written together,
   at the latest ``RECORD_EVERY_SECONDS`` after a send.

A crash between 2 and 3 leaves the rows leased; when the lease ends another sender re-sends
them with the same Message-IDs. That is the only way a mail goes out twice: the mails sent
in the fraction of a second before a crash.
The consumer never waits for any of this: it records rows and wakes this process's senders
after its commit; the senders of other replicas find due rows by a short poll.
"""

from __future__ import annotations

import asyncio
import email.policy
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

import aiosmtplib
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stopclock_shared.consumer import is_transient
from stopclock_shared.db import utc_now
from stopclock_shared.outbox import Outbox

from . import metrics, service
from . import repository as repo
from .domain import Failure, RenderedMail, message_id_for, render
from .settings import NotificationSettings
from .wakeup import Wakeup

log = logging.getLogger(__name__)

# A reused SMTP connection idle longer than this is replaced rather than trusted.
IDLE_RECONNECT_SECONDS = 15.0
# After the server was unreachable, wait this long (doubling) before trying again.
BREAKER_FIRST_SECONDS = 0.5
BREAKER_MAX_SECONDS = 5.0
# Outcomes are recorded at the latest this long after the first unrecorded send.
RECORD_EVERY_SECONDS = 0.2
# SMTP 421: the server is shutting the channel down; not a verdict on the mail.
SERVICE_NOT_AVAILABLE = 421


class _CachingHeaderRegistry(HeaderRegistry):
    """The stdlib registry builds a new header class on every lookup (most of the cost of
    composing a mail); build each class once."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        found = self._classes.get(key)
        if found is None:
            found = self._classes[key] = super().__getitem__(name)
        return found


# email.policy.default (strict headers: a line break in a value is refused), only faster.
MAIL_POLICY = email.policy.default.clone(header_factory=_CachingHeaderRegistry())


class Transport(Protocol):
    """Hands one message to an SMTP server; raises when it is not accepted."""

    async def send(self, message: EmailMessage) -> None: ...

    async def close(self) -> None: ...


def classify(exc: BaseException) -> Failure:
    """Whether a send failure is the server being unreachable or the mail being rejected."""
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected):
        return Failure.UNREACHABLE
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if exc.code == SERVICE_NOT_AVAILABLE or isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return Failure.UNREACHABLE
        return Failure.REJECTED
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return Failure.REJECTED
    if isinstance(exc, OSError | TimeoutError | aiosmtplib.SMTPNotSupported):
        return Failure.UNREACHABLE
    return Failure.REJECTED


def describe(exc: BaseException) -> str:
    """A one-line error for the log row (``last_error``)."""
    text = str(exc).replace("\n", " ").strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def compose(
    mail: RenderedMail,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    date: datetime,
    kind: str,
    locale: str,
    ticket_id: str | None,
    domain: str,
) -> EmailMessage:
    """The multipart (text, then HTML alternative) message; raises ValueError on bad headers."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = message_id
    # The time the mail was decided on, so a re-send is byte-for-byte the same mail.
    message["Date"] = format_datetime(date)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: autoresponders stay quiet
    message["X-Stopclock-Kind"] = kind
    if ticket_id:
        # Mail clients thread every mail of a ticket together.
        message["References"] = f"<ticket-{ticket_id}@{domain}>"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    # After the body: set_content/add_alternative move Content-* headers into the parts.
    message["Content-Language"] = locale
    return message


class SmtpTransport:
    """One SMTP connection, opened on first use and kept while it is in use."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings
        self.client: aiosmtplib.SMTP | None = None
        self.last_used = 0.0

    async def send(self, message: EmailMessage) -> None:
        fresh = self.client is None or time.monotonic() - self.last_used > IDLE_RECONNECT_SECONDS
        if fresh:
            await self._connect()
        assert self.client is not None
        try:
            await self.client.send_message(message)
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
            await self.close()
            if fresh:
                raise
            # The server dropped a reused connection while we idled; that says nothing about
            # the mail, so try once more on a new connection before counting a failure.
            await self._connect()
            assert self.client is not None
            await self.client.send_message(message)
        except BaseException:
            await self.close()
            raise
        self.last_used = time.monotonic()

    async def _connect(self) -> None:
        await self.close()
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            timeout=s.smtp_timeout_seconds,
            use_tls=s.smtp_use_tls,
            start_tls=s.smtp_start_tls,
            username=s.smtp_username or None,
            password=s.smtp_password.get_secret_value() or None,
        )
        await client.connect()
        self.client = client

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await asyncio.wait_for(client.quit(), 2)
        except Exception:
            client.close()


@dataclass
class Attempt:
    """One send of a leased row: accepted (``accepted_at``) or failed (``failure``)."""

    row: RowMapping
    message_id: str
    accepted_at: datetime | None = None
    failure: Failure | None = None
    error: str = ""


class MailSender:
    """One sender loop: claim a batch of due rows, send them one by one, record the outcomes.

    Outcomes are recorded together, after the batch or every ``RECORD_EVERY_SECONDS``
    (one transaction instead of one per mail); a crash in between re-sends at most those
    few mails, with their Message-IDs, after the lease.
    """

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        settings: NotificationSettings,
        transport: Transport,
        wake: asyncio.Event,
        clock: Callable[[], datetime] = utc_now,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.maker = sessionmaker
        self.outbox = outbox
        self.settings = settings
        self.transport = transport
        self.wake = wake
        self.clock = clock
        self.jitter = jitter
        self.breaker_seconds = 0.0
        self.lease = timedelta(seconds=settings.mail_lease_seconds)
        # Start a send only if it can end (timeout for connect and for the send) in the lease.
        self.send_room = timedelta(seconds=2 * settings.smtp_timeout_seconds + 1)

    async def run(self) -> None:
        """Send until cancelled; sleep until woken (new rows) or the poll interval passes."""
        try:
            while True:
                self.wake.clear()
                claimed = await self.send_due()
                if self.breaker_seconds:
                    await asyncio.sleep(self.breaker_seconds)
                    continue
                if claimed >= self.settings.mail_batch_size:
                    continue
                try:
                    await asyncio.wait_for(self.wake.wait(), self.settings.mail_poll_seconds)
                except TimeoutError:
                    pass
        finally:
            await self.transport.close()

    async def send_due(self) -> int:
        """Claim one batch and work through it; returns how many rows were claimed."""
        now = self.clock()
        async with self.maker() as session, session.begin():
            rows = await repo.claim_due(
                session, now, now + self.lease, self.settings.mail_batch_size
            )
        untried = list(rows)
        attempts: list[Attempt] = []
        unrecorded_since = time.monotonic()
        try:
            while untried:
                if self.clock() + self.send_room > untried[0]["next_attempt_at"]:
                    break  # the lease could end mid-send: leave the rest to a fresh claim
                # From here on the row is in flight and never released: if we are stopped
                # mid-send, only the lease's end may hand it to another sender.
                attempt = await self.attempt(untried.pop(0))
                attempts.append(attempt)
                if attempt.failure is Failure.UNREACHABLE:
                    break  # the server is down for every mail: do not burn the others' tries
                if time.monotonic() - unrecorded_since > RECORD_EVERY_SECONDS:
                    await self._record(attempts, [])
                    attempts, unrecorded_since = [], time.monotonic()
        finally:
            # Also on cancellation (shutdown): what was sent is recorded, what was never
            # tried is due again at once.
            await asyncio.shield(self._record(attempts, untried))
        return len(rows)

    async def attempt(self, row: RowMapping) -> Attempt:
        """Write and send one leased row (no database work)."""
        kind = row["kind"]
        message_id = message_id_for(
            row["event_id"], kind, row["recipient"], domain=self.settings.message_id_domain
        )
        try:
            message = compose(
                render(service.planned_of(row)),
                sender=self.settings.mail_from,
                recipient=row["recipient"],
                message_id=message_id,
                date=row["created_at"],
                kind=kind,
                locale=row["locale"],
                ticket_id=row["ticket_id"],
                domain=self.settings.message_id_domain,
            )
        except Exception as exc:
            log.exception("mail %s cannot be written", row["id"])
            return Attempt(row, message_id, failure=Failure.UNRENDERABLE, error=describe(exc))
        start = time.perf_counter()
        try:
            await self.transport.send(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            metrics.MAIL_SEND_DURATION.observe(time.perf_counter() - start)
            failure = classify(exc)
            if failure is Failure.UNREACHABLE:
                self.breaker_seconds = min(
                    max(2 * self.breaker_seconds, BREAKER_FIRST_SECONDS), BREAKER_MAX_SECONDS
                )
                log.warning("SMTP server unreachable (%s); mails wait for it", describe(exc))
            return Attempt(row, message_id, failure=failure, error=describe(exc))
        metrics.MAIL_SEND_DURATION.observe(time.perf_counter() - start)
        self.breaker_seconds = 0.0
        accepted = self.clock()
        metrics.MAILS_SENT.labels(kind).inc()
        metrics.MAIL_END_TO_END.labels(kind).observe(
            max(0.0, (accepted - row["event_time"]).total_seconds())
        )
        return Attempt(row, message_id, accepted_at=accepted)

    async def _record(self, attempts: Sequence[Attempt], untried: Sequence[RowMapping]) -> None:
        """Record outcomes and release untried rows in one transaction.

        Database hiccups are retried while the leases last; past that, the rows are due
        again and are re-sent with the same Message-ID: a duplicate, never a loss.
        """
        if not attempts and not untried:
            return
        accepted = [
            repo.Accepted(a.row["id"], a.row["next_attempt_at"], a.message_id, a.accepted_at)
            for a in attempts
            if a.accepted_at is not None
        ]
        failed = [a for a in attempts if a.failure is not None]
        jitters = [self.jitter() for _ in failed]
        lease_ends = min(r["next_attempt_at"] for r in [*(a.row for a in attempts), *untried])
        delay = 0.1
        while True:
            try:
                async with self.maker() as session, session.begin():
                    sent = await service.record_sent(session, self.outbox, accepted)
                    outcomes = [
                        await service.record_failure(
                            session,
                            self.outbox,
                            a.row,
                            failure=a.failure,
                            error=a.error,
                            message_id=a.message_id,
                            now=self.clock(),
                            jitter=jitter,
                            max_attempts=self.settings.mail_max_attempts,
                        )
                        for a, jitter in zip(failed, jitters, strict=True)
                        if a.failure is not None
                    ]
                    await self._release(session, untried)
                break
            except Exception as exc:
                if not is_transient(exc) or self.clock() + timedelta(seconds=delay) > lease_ends:
                    log.exception("could not record %d mail outcomes", len(attempts))
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        if len(sent) < len(accepted):
            log.warning("%d mails were sent after their lease ended", len(accepted) - len(sent))
        for row in outcomes:
            if row is None:
                continue
            if row["status"] == "dead":
                metrics.MAILS_DEAD.labels(row["kind"]).inc()
                log.error(
                    "mail %s (%s) given up after %d attempts: %s",
                    row["id"],
                    row["kind"],
                    row["attempts"],
                    row["last_error"],
                )
            else:
                metrics.MAILS_FAILED.labels(row["kind"]).inc()

    async def _release(self, session: AsyncSession, rows: Sequence[RowMapping]) -> None:
        now = self.clock()
        for lease_until in {r["next_attempt_at"] for r in rows}:
            ids = [r["id"] for r in rows if r["next_attempt_at"] == lease_until]
            await repo.release(session, ids, lease_until, now)


def sender_tasks(
    sessionmaker: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    settings: NotificationSettings,
    wakeup: Wakeup,
    transport_factory: Callable[[], Transport] | None = None,
) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    """The sender loops of delivery, woken by ``wakeup`` (new rows) or their poll."""
    make_transport = transport_factory or (lambda: SmtpTransport(settings))
    tasks: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    for i in range(settings.mail_senders):
        sender = MailSender(
            sessionmaker=sessionmaker,
            outbox=outbox,
            settings=settings,
            transport=make_transport(),
            wake=wakeup.new_event(),
        )
        tasks.append((f"mail-sender-{i}", sender.run))
    return tasks
