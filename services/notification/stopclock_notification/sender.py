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
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Protocol

import aiosmtplib

from stopclock_shared.consumer import is_transient
from stopclock_shared.db import utc_now

from . import metrics
from .domain import Failure, message_id_for
from .domain.composing import (
    OutgoingMail,
    compose,
    desk_sender,
    reply_to_of,
    threading_of,
)
from .repository import StoredMail
from .sender_wakeup import SenderWakeup
from .settings import NotificationSettings
from .use_cases import NotificationUnitOfWork
from .use_cases.sending import Attempt, claim_due, record_outcomes, written_mail
from .written_mails import WrittenMails

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


class Transport(Protocol):
    """Hands one mail to an SMTP server; raises when it is not accepted."""

    async def send(self, mail: OutgoingMail) -> None: ...

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


class SmtpTransport:
    """One SMTP connection, opened on first use and kept while it is in use."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings
        self.client: aiosmtplib.SMTP | None = None
        self.last_used = 0.0

    async def send(self, mail: OutgoingMail) -> None:
        fresh = self.client is None or time.monotonic() - self.last_used > IDLE_RECONNECT_SECONDS
        if fresh:
            await self._connect()
        assert self.client is not None
        try:
            await self.client.sendmail(mail.sender, mail.recipients, mail.data)
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
            await self.close()
            if fresh:
                raise
            # The server dropped a reused connection while we idled; that says nothing about
            # the mail, so try once more on a new connection before counting a failure.
            await self._connect()
            assert self.client is not None
            await self.client.sendmail(mail.sender, mail.recipients, mail.data)
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


class UnitsOfWork(Protocol):
    """Where a sender's units of work come from (`repository.SqlUnits`, or fakes in tests)."""

    def transaction(self) -> AbstractAsyncContextManager[NotificationUnitOfWork]: ...

    def autocommit(self) -> AbstractAsyncContextManager[NotificationUnitOfWork]: ...


class MailSender:
    """One sender loop: claim a batch of due mails, send them one by one, record the outcomes.

    Outcomes are recorded together, after the batch or every ``RECORD_EVERY_SECONDS``
    (one transaction instead of one per mail); a crash in between re-sends at most those
    few mails, with their Message-IDs, after the lease.
    """

    def __init__(
        self,
        *,
        units: UnitsOfWork,
        settings: NotificationSettings,
        transport: Transport,
        wake: asyncio.Event,
        clock: Callable[[], datetime] = utc_now,
        jitter: Callable[[], float] = random.random,
        written: WrittenMails | None = None,
        wake_another: Callable[[], None] | None = None,
    ) -> None:
        self.units = units
        self.settings = settings
        self.transport = transport
        self.wake = wake
        self.clock = clock
        self.jitter = jitter
        self.written = written
        # Called after claiming a full batch: more is due, so another sender should help.
        self.wake_another = wake_another
        self.breaker_seconds = 0.0
        self.lease = timedelta(seconds=settings.mail_lease_seconds)
        # Start a send only if it can end (timeout for connect and for the send) in the lease.
        self.send_room = timedelta(seconds=2 * settings.smtp_timeout_seconds + 1)
        # Worked out once: the key is itself an HMAC, the From a parse.
        self.link_key = settings.link_key
        self.sender = desk_sender(settings.mail_from, settings.desk_address)

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
        """Claim one batch and work through it; returns how many mails were claimed."""
        now = self.clock()
        batch = self.settings.mail_batch_size
        async with self.units.autocommit() as uow:
            mails = await claim_due(uow, now, self.lease, batch)
        if len(mails) >= batch and self.wake_another is not None:
            self.wake_another()
        untried = list(mails)
        attempts: list[Attempt] = []
        unrecorded_since = time.monotonic()
        try:
            while untried:
                if self.clock() + self.send_room > untried[0].next_attempt_at:
                    break  # the lease could end mid-send: leave the rest to a fresh claim
                # From here on the mail is in flight and never released: if we are stopped
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
        return len(mails)

    async def attempt(self, mail: StoredMail) -> Attempt:
        """Write and send one leased mail (no database work)."""
        kind = mail.kind
        message_id = message_id_for(
            mail.event_id, kind, mail.recipient, domain=self.settings.message_id_domain
        )
        try:
            outgoing = compose(
                written_mail(mail, self.written),
                sender=self.sender,
                recipient=mail.recipient,
                message_id=message_id,
                date=mail.created_at,
                kind=kind,
                locale=mail.locale,
                ticket_id=mail.ticket_id,
                domain=self.settings.message_id_domain,
                reply_to=reply_to_of(
                    self.link_key, self.settings.desk_address, mail.ticket_id, mail.recipient
                ),
                in_reply_to=threading_of(mail.context),
            )
        except Exception as exc:
            log.exception("mail %s cannot be written", mail.id)
            return Attempt(mail, message_id, failure=Failure.UNRENDERABLE, error=describe(exc))
        start = time.perf_counter()
        try:
            await self.transport.send(outgoing)
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
            return Attempt(mail, message_id, failure=failure, error=describe(exc))
        metrics.MAIL_SEND_DURATION.observe(time.perf_counter() - start)
        self.breaker_seconds = 0.0
        accepted = self.clock()
        metrics.MAILS_SENT.labels(kind).inc()
        metrics.MAIL_END_TO_END.labels(kind).observe(
            max(0.0, (accepted - mail.event_time).total_seconds())
        )
        return Attempt(mail, message_id, accepted_at=accepted)

    async def _record(self, attempts: Sequence[Attempt], untried: Sequence[StoredMail]) -> None:
        """Record outcomes and release untried mails in one transaction.

        Database hiccups are retried while the leases last; past that, the mails are due
        again and are re-sent with the same Message-ID: a duplicate, never a loss.
        """
        if not attempts and not untried:
            return
        jitters = [self.jitter() for a in attempts if a.failure is not None]
        lease_ends = min(m.next_attempt_at for m in [*(a.mail for a in attempts), *untried])
        delay = 0.1
        while True:
            try:
                async with self.units.transaction() as uow:
                    outcomes = await record_outcomes(
                        uow,
                        attempts,
                        untried,
                        now=self.clock(),
                        jitters=jitters,
                        max_attempts=self.settings.mail_max_attempts,
                    )
                break
            except Exception as exc:
                if not is_transient(exc) or self.clock() + timedelta(seconds=delay) > lease_ends:
                    log.exception("could not record %d mail outcomes", len(attempts))
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        if outcomes.lost:
            log.warning("%d mails were sent after their lease ended", outcomes.lost)
        for mail in outcomes.failed:
            if mail.status == "dead":
                metrics.MAILS_DEAD.labels(mail.kind).inc()
                log.error(
                    "mail %s (%s) given up after %d attempts: %s",
                    mail.id,
                    mail.kind,
                    mail.attempts,
                    mail.last_error,
                )
            else:
                metrics.MAILS_FAILED.labels(mail.kind).inc()


def sender_tasks(
    units: UnitsOfWork,
    settings: NotificationSettings,
    wakeup: SenderWakeup,
    transport_factory: Callable[[], Transport] | None = None,
    written: WrittenMails | None = None,
) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    """The sender loops of delivery, woken by ``wakeup`` (new rows) or their poll."""
    make_transport = transport_factory or (lambda: SmtpTransport(settings))
    tasks: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    for i in range(settings.mail_senders):
        wake = wakeup.new_event()
        sender = MailSender(
            units=units,
            settings=settings,
            transport=make_transport(),
            wake=wake,
            written=written,
            wake_another=functools.partial(wakeup.set_one, skip=wake),
        )
        tasks.append((f"mail-sender-{i}", sender.run))
    return tasks
