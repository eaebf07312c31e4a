"""The SMTP receiver on a real socket with a fake intake: what each outcome answers, the size
limit, foreign recipients, a failing intake, and readiness once bound."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from email.message import EmailMessage

import aiosmtplib
import pytest

from stopclock_notification.domain.inbound_decision import Outcome
from stopclock_notification.inbound_smtp import InboundHandler, InboundSmtpServer
from stopclock_notification.use_cases.inbound import Received, Status, Taken
from stopclock_shared.testing.processes import free_port

DESK = "servicedesk@stopclock.local"
MAX_BYTES = 4096


class FakeIntake:
    """Answers with ``status`` (or raises ``error``) and keeps what it was given."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = Status.ACCEPTED
        self.error: Exception | None = None

    async def __call__(self, received: Received) -> Taken:
        self.received.append(received)
        if self.error is not None:
            raise self.error
        return Taken(self.status, outcome=Outcome.COMMENT)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[InboundSmtpServer, FakeIntake]]:
    intake = FakeIntake()
    server = InboundSmtpServer(
        InboundHandler(intake, DESK), "127.0.0.1", free_port(), MAX_BYTES, "stopclock.local"
    )
    assert server.readiness() != "ok"
    task = asyncio.create_task(server.run())
    for _ in range(100):
        if server.readiness() == "ok":
            break
        await asyncio.sleep(0.01)
    yield server, intake
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert server.readiness() != "ok"


def message(body: str = "Hello desk") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Ada <ada@example.test>"
    msg["To"] = DESK
    msg["Subject"] = "Question"
    msg["Message-ID"] = "<q1@example.test>"
    msg.set_content(body)
    return msg


async def send(server: InboundSmtpServer, msg: EmailMessage, to: str = DESK) -> tuple[int, str]:
    try:
        errors, reply = await aiosmtplib.send(
            msg, hostname="127.0.0.1", port=server.port, recipients=[to], sender="ada@example.test"
        )
    except aiosmtplib.SMTPResponseException as exc:
        return exc.code, exc.message
    assert not errors
    return 250, reply  # aiosmtplib raises for anything but a 2xx answer to DATA


async def test_a_recorded_mail_is_answered_250_with_its_envelope_passed_on(
    receiver: tuple[InboundSmtpServer, FakeIntake],
) -> None:
    server, intake = receiver
    code, text = await send(server, message(), to="ServiceDesk+Tag@stopclock.local")
    assert (code, text) == (250, "2.0.0 Message accepted")
    (received,) = intake.received
    assert received.rcpt_tos == ("servicedesk+tag@stopclock.local",)
    assert received.mail_from == "ada@example.test"
    assert b"Message-ID: <q1@example.test>" in received.raw
    assert b"Hello desk" in received.raw


async def test_a_sender_over_the_rate_limit_gets_a_temporary_refusal(
    receiver: tuple[InboundSmtpServer, FakeIntake],
) -> None:
    server, intake = receiver
    intake.status = Status.RATE_LIMITED
    code, text = await send(server, message())
    assert (code, text.split()[0]) == (450, "4.7.1")


async def test_a_mail_that_could_not_be_recorded_is_refused_for_a_retry(
    receiver: tuple[InboundSmtpServer, FakeIntake],
) -> None:
    server, intake = receiver
    intake.error = ConnectionError("database away")
    code, _ = await send(server, message())
    assert code == 451
    intake.error = None
    assert (await send(server, message()))[0] == 250  # the receiver lives on


async def test_an_oversize_mail_is_refused_552_and_never_taken_in(
    receiver: tuple[InboundSmtpServer, FakeIntake],
) -> None:
    server, intake = receiver
    code, _ = await send(server, message("x" * (MAX_BYTES * 2)))
    assert code == 552
    assert intake.received == []


async def test_mail_for_another_domain_is_refused_550(
    receiver: tuple[InboundSmtpServer, FakeIntake],
) -> None:
    server, intake = receiver
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await aiosmtplib.send(
            message(), hostname="127.0.0.1", port=server.port, recipients=["x@elsewhere.test"]
        )
    assert refused.value.recipients[0].code == 550
    assert intake.received == []
