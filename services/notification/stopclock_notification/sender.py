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
import binascii
import email.policy
import functools
import hashlib
import logging
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import BaseHeader, HeaderRegistry
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any, Protocol

import aiosmtplib
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stopclock_shared.consumer import is_transient
from stopclock_shared.db import utc_now
from stopclock_shared.links import reply_address
from stopclock_shared.outbox import Outbox

from . import metrics, service
from . import repository as repo
from .domain import Failure, RenderedMail, message_id_for, render
from .rendered import RenderedMails
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


@dataclass(frozen=True)
class OutgoingMail:
    """A written mail: the SMTP envelope (``sender``, ``recipients``) and the message bytes."""

    sender: str
    recipients: tuple[str, ...]
    message_id: str
    data: bytes


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


# A header value written as it is: printable ASCII words with single spaces, nothing that
# could read as an RFC 2047 encoded word. Anything else goes through the stdlib policy
# (encoding, folding, and the refusal of line breaks).
_VERBATIM = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
# A bare address (what mail rows hold), written and used as the SMTP recipient as it is.
_BARE_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
_MAX_LINE = 78
# A Message-ID as we repeat it in In-Reply-To/References: one <left@right> of printable ASCII.
# Anything else (from a foreign mail) is not repeated: threading is a courtesy, the mail is not.
_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,900}>")
DEFAULT_DESK_NAME = "Stopclock Service Desk"


def _header(name: str, value: str) -> str:
    """``Name: value`` and a line break, folded and encoded as ``email.policy.default`` does
    whenever the value is not plain short ASCII; raises ValueError on a line break."""
    if len(name) + len(value) + 2 <= _MAX_LINE and "=?" not in value and _VERBATIM.fullmatch(value):
        return f"{name}: {value}\n"
    return str(_parsed(name, value).fold(policy=MAIL_POLICY))


def _parsed(name: str, value: str) -> BaseHeader:
    header = MAIL_POLICY.header_store_parse(name, value)[1]
    assert isinstance(header, BaseHeader)
    return header


@functools.lru_cache(maxsize=64)
def _address_header(name: str, value: str) -> tuple[str, tuple[str, ...]]:
    """An address header (the configured sender: parsed once) and its addresses."""
    header = _parsed(name, value)
    addresses = getattr(header, "addresses", ())
    return str(header.fold(policy=MAIL_POLICY)), tuple(a.addr_spec for a in addresses)


def _recipient(recipient: str) -> tuple[str, tuple[str, ...]]:
    if _BARE_ADDRESS.fullmatch(recipient) and len(recipient) <= _MAX_LINE - 4:
        return f"To: {recipient}\n", (recipient,)
    header = _parsed("To", recipient)
    addresses = getattr(header, "addresses", ())
    return str(header.fold(policy=MAIL_POLICY)), tuple(a.addr_spec for a in addresses)


def _address_line(name: str, address: str) -> str:
    """An address header of one bare address we made (a reply address): as it is, on the
    next line when long, as the stdlib folds it; anything unusual goes through the stdlib."""
    if not _BARE_ADDRESS.fullmatch(address):
        return str(_parsed(name, address).fold(policy=MAIL_POLICY))
    if len(name) + len(address) + 2 <= _MAX_LINE:
        return f"{name}: {address}\n"
    return f"{name}:\n {address}\n"


def _ids_line(name: str, ids: Sequence[str]) -> str:
    """A header of Message-IDs, folded between ids (never inside one, unlike the stdlib)."""
    line, lines = f"{name}:", []
    for message_id in ids:
        if len(line) + 1 + len(message_id) > _MAX_LINE and line != f"{name}:":
            lines.append(line)
            line = ""
        line += f" {message_id}"
    lines.append(line)
    return "\n".join(lines) + "\n"


def threading_of(context: Mapping[str, Any]) -> str | None:
    """The Message-ID a mail answers (the requester's mail that opened the ticket), if valid."""
    found = context.get("in_reply_to") if isinstance(context, Mapping) else None
    if isinstance(found, str) and _MESSAGE_ID.fullmatch(found.strip()):
        return found.strip()
    return None


def reply_to_of(key: bytes, desk_address: str, ticket_id: str | None, recipient: str) -> str | None:
    """The signed reply address of a mail about ``ticket_id`` to ``recipient`` (one HMAC),
    so a reply comes back to that ticket; None for a mail about no ticket."""
    if not ticket_id:
        return None
    try:
        ticket = uuid.UUID(ticket_id)
    except ValueError:
        return None  # not one of our tickets' ids: nothing a reply could be threaded to
    return reply_address(key, desk_address, ticket, recipient)


def desk_sender(mail_from: str, desk_address: str) -> str:
    """The From of every mail: the desk's address, under the configured display name."""
    name, _ = parseaddr(mail_from)
    return formataddr((name or DEFAULT_DESK_NAME, desk_address))


def _text_part(content_type: str, text: str) -> str:
    body = binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii")
    return (
        f'Content-Type: {content_type}; charset="utf-8"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n"
        f"{body}\n"
    )


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
    reply_to: str | None = None,
    in_reply_to: str | None = None,
) -> OutgoingMail:
    """The multipart (text, then HTML alternative) message; raises ValueError on bad headers.

    Written directly rather than through ``EmailMessage`` (whose header parsing and
    re-folding cost more than the rest of a send): plain ASCII headers as they are, others
    encoded by the stdlib policy, both parts quoted-printable UTF-8, and a boundary derived
    from the Message-ID, so a re-send is byte-for-byte the same mail.
    ``reply_to``: the signed reply address of the ticket and recipient (replies come back to
    the ticket); ``in_reply_to``: the Message-ID of the mail this one answers (a valid one,
    see ``threading_of``).
    """
    from_header, senders = _address_header("From", sender)
    to_header, recipients = _recipient(recipient)
    if not senders or not recipients:
        raise ValueError(f"no address in From {sender!r} or To {recipient!r}")
    # "=_" never occurs in quoted-printable text, so the boundary cannot occur in a part.
    boundary = "=_" + hashlib.sha256(message_id.encode()).hexdigest()[:32]
    head = [from_header, to_header]
    if reply_to:
        head.append(_address_line("Reply-To", reply_to))
    head += [
        _header("Subject", mail.subject),
        _header("Message-ID", message_id),
        # The time the mail was decided on, so a re-send is byte-for-byte the same mail.
        _header("Date", format_datetime(date)),
        "Auto-Submitted: auto-generated\n",  # RFC 3834: autoresponders stay quiet
        _header("X-Stopclock-Kind", kind),
    ]
    references = [f"<ticket-{ticket_id}@{domain}>"] if ticket_id else []
    if in_reply_to:
        # The confirmation of a ticket opened by mail answers that mail, in its thread.
        head.append(_ids_line("In-Reply-To", [in_reply_to]))
        references.insert(0, in_reply_to)
    if references:
        # Mail clients thread every mail of a ticket together (and with the mail that
        # opened it: it comes first, as the oldest ancestor).
        head.append(_ids_line("References", references))
    head += [
        "MIME-Version: 1.0\n",
        f'Content-Type: multipart/alternative;\n boundary="{boundary}"\n',
        _header("Content-Language", locale),
        "\n",
        f"--{boundary}\n",
        _text_part("text/plain", mail.text),
        f"--{boundary}\n",
        _text_part("text/html", mail.html),
        f"--{boundary}--\n",
    ]
    # aiosmtplib turns the line breaks into CRLF (and dot-stuffs) on the wire.
    data = "".join(head).encode("ascii")
    return OutgoingMail(senders[0], recipients, message_id, data)


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
        rendered: RenderedMails | None = None,
        wake_another: Callable[[], None] | None = None,
    ) -> None:
        self.maker = sessionmaker
        self.outbox = outbox
        self.settings = settings
        self.transport = transport
        self.wake = wake
        self.clock = clock
        self.jitter = jitter
        self.rendered = rendered
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
        """Claim one batch and work through it; returns how many rows were claimed."""
        now = self.clock()
        async with self.maker() as session:
            # The claim is one UPDATE, atomic by itself: committed as it runs, without the
            # round trips of a BEGIN and a COMMIT around it.
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            rows = await repo.claim_due(
                session, now, now + self.lease, self.settings.mail_batch_size
            )
        if len(rows) >= self.settings.mail_batch_size and self.wake_another is not None:
            self.wake_another()
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
            written = self.rendered.take(row["dedupe_key"]) if self.rendered else None
            outgoing = compose(
                written or render(service.planned_of(row)),
                sender=self.sender,
                recipient=row["recipient"],
                message_id=message_id,
                date=row["created_at"],
                kind=kind,
                locale=row["locale"],
                ticket_id=row["ticket_id"],
                domain=self.settings.message_id_domain,
                reply_to=reply_to_of(
                    self.link_key, self.settings.desk_address, row["ticket_id"], row["recipient"]
                ),
                in_reply_to=threading_of(row["context"]),
            )
        except Exception as exc:
            log.exception("mail %s cannot be written", row["id"])
            return Attempt(row, message_id, failure=Failure.UNRENDERABLE, error=describe(exc))
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
    rendered: RenderedMails | None = None,
) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    """The sender loops of delivery, woken by ``wakeup`` (new rows) or their poll."""
    make_transport = transport_factory or (lambda: SmtpTransport(settings))
    tasks: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    for i in range(settings.mail_senders):
        wake = wakeup.new_event()
        sender = MailSender(
            sessionmaker=sessionmaker,
            outbox=outbox,
            settings=settings,
            transport=make_transport(),
            wake=wake,
            rendered=rendered,
            wake_another=functools.partial(wakeup.set_one, skip=wake),
        )
        tasks.append((f"mail-sender-{i}", sender.run))
    return tasks
