"""The desk's SMTP receiver: aiosmtpd on the service's own event loop.

Each replica listens on its own pod (locally one process on 127.0.0.1:2525). A mail is
answered 250 only after ``Intake`` committed its record and commands; anything that keeps us
from recording it is a 451, so the sending server keeps the mail and tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, AnyStr

from aiosmtpd.smtp import SMTP, Envelope, Session

from . import metrics
from .domain.inbound_decision import at_desk_domain
from .use_cases.inbound import Received, Status, Taken

log = logging.getLogger(__name__)
IDENT = "Stopclock service desk"
IDLE_TIMEOUT_SECONDS = 300  # RFC 5321 asks servers to wait 5 minutes between commands

Take = Callable[[Received], Awaitable[Taken]]


def reply_of(taken: Taken) -> str:
    """The SMTP answer to a mail once ``Intake`` is done with it."""
    if taken.status is Status.RATE_LIMITED:
        return "450 4.7.1 Too many mails from this sender; try again later"
    # Accepted, rejected by policy, or a copy of one taken in: we have taken responsibility
    # (and never answer by mail: no backscatter).
    return "250 2.0.0 Message accepted"


class InboundHandler:
    """aiosmtpd handler: recipients at the desk's domain only, each mail through ``take``."""

    def __init__(self, take: Take, desk_address: str) -> None:
        self.take = take
        self.desk_address = desk_address

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not at_desk_domain(address, self.desk_address):
            metrics.INBOUND_REFUSED.labels("recipient").inc()
            return "550 5.1.1 Not a mailbox of this service desk"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode("utf-8", "replace")
        received = Received(
            raw=raw,
            rcpt_tos=tuple(a.lower() for a in envelope.rcpt_tos),
            mail_from=envelope.mail_from or "",
        )
        try:
            taken = await self.take(received)
        except Exception:
            # Database away, a bug: never a crashed receiver, and never a lost mail.
            log.exception("could not take in a mail from %s", envelope.mail_from)
            metrics.INBOUND_REFUSED.labels("error").inc()
            return "451 4.3.0 Temporary failure; please try again later"
        return reply_of(taken)


class _CountingSMTP(SMTP):
    """aiosmtpd refuses oversize mails itself (552); this only counts those refusals."""

    async def push(self, status: AnyStr) -> None:
        text = status.decode() if isinstance(status, bytes) else status
        if text.startswith("552"):
            metrics.INBOUND_REFUSED.labels("too_big").inc()
        await super().push(status)


@dataclass
class InboundSmtpServer:
    """The listener; ``readiness`` says "ok" once it is bound (``/readyz``)."""

    handler: InboundHandler
    host: str
    port: int
    max_bytes: int
    hostname: str
    server: asyncio.Server | None = field(default=None, init=False)

    def readiness(self) -> str:
        if self.server is not None and self.server.is_serving():
            return "ok"
        return f"not listening on {self.host}:{self.port}"

    def _protocol(self) -> Any:
        return _CountingSMTP(
            self.handler,
            data_size_limit=self.max_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self.hostname,
            ident=IDENT,
            timeout=IDLE_TIMEOUT_SECONDS,
        )

    async def run(self) -> None:
        """Listen until cancelled (a bind failure raises: the task supervisor retries)."""
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._protocol, self.host, self.port)
        sockets = self.server.sockets or ()
        if self.port == 0 and sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("inbound SMTP listening on %s:%s", self.host, self.port)
        try:
            await self.server.serve_forever()
        finally:
            self.server.close()
            self.server = None
