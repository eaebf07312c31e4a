"""A requester's reply survives SIGKILLs of the notification process and acts exactly once.

A private ``python -m stopclock_notification`` (own HTTP and inbound SMTP ports, own
throwaway database, own consumer group positioned at the end of the topics, own mail
catcher) threads a reply to a ticket of the stack's ticket service:

1. Killed while the mail is in flight (frozen with SIGSTOP, then SIGKILL): the client gets
   no 250, so the mail is still the client's to deliver.
2. Restarted with its outbox relay off, it takes the retried mail in: 250 means the record
   and the comment command are committed, but nothing can have reached the ticket yet.
   Killed again, right there: between receipt and the comment.
3. Restarted with its relay on, the command left in the outbox is published: the comment
   appears; the client's third copy is recognised by its Message-ID: exactly one comment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiosmtplib
import httpx
import pytest
from inbound_support import DESK, comments_of, ticket_of, until
from notification_support import Catcher, Notification, group_id, position_group_at_end

from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.processes import free_port
from stopclock_shared.testing.stack import Stack, unique

pytestmark = pytest.mark.slow
TEXT = "Answer that must survive the crash."


@pytest.fixture
async def private(
    stack: Stack,
    throwaway_database: str,
    tmp_path: Path,
) -> AsyncIterator[tuple[Callable[[bool], Notification], int]]:
    """Makes private notification processes sharing one database, group and inbound port."""
    suffix = "-" + unique("inbound-crash")
    await position_group_at_end(stack.kafka, group_id(suffix))
    catcher = Catcher.make(stack, tmp_path)
    await catcher.start()
    inbound_port = free_port()
    started: list[Notification] = []

    def make(relay: bool) -> Notification:
        service = Notification.make(
            stack,
            database_url=throwaway_database,
            smtp_port=catcher.port,
            group_suffix=suffix,
            log=tmp_path / f"notification-{len(started)}.log",
        )
        service.process.env["STOPCLOCK_INBOUND_SMTP_PORT"] = str(inbound_port)
        service.process.env["STOPCLOCK_RELAY_ENABLED"] = "true" if relay else "false"
        started.append(service)
        return service

    try:
        yield make, inbound_port
    finally:
        for service in started:
            service.process.stop()
        catcher.stop()


async def deliver(port: int, msg: EmailMessage, timeout: float = 10) -> str:
    _, answer = await aiosmtplib.send(msg, hostname="127.0.0.1", port=port, timeout=timeout)
    return answer


async def test_a_reply_taken_in_just_before_a_sigkill_is_commented_once_after_restart(
    stack: Stack,
    private: tuple[Callable[[bool], Notification], int],
    new_database: Callable[[], AbstractAsyncContextManager[str]],
) -> None:
    make, port = private
    admin = stack.auth("desk-admin", "admin", "agent")
    first = make(False)
    first.process.start()
    await first.wait_ready()

    async with httpx.AsyncClient(base_url=stack.url("ticket"), timeout=15) as ticket_api:
        person_id = unique("crash")
        email = f"{person_id}@example.test"
        await put_person(ticket_api, admin, person_id, name="Kim Crash", email=email)
        ticket = await open_ticket(ticket_api, admin, person_id, title="Survives a crash")
        await move(ticket_api, admin, ticket["id"], "in_progress")
        await move(ticket_api, admin, ticket["id"], "waiting_on_user", reason="info_requested")
        msg = EmailMessage()
        msg["From"] = f"Kim Crash <{email}>"
        msg["To"] = DESK
        msg["Subject"] = f"Re: [{ticket['number']}] We need more information"
        msg["Message-ID"] = make_msgid(domain="client.example.test")
        msg.set_content(TEXT)
        # The private process threads by the subject number: its replica of the ticket
        # (from tickets.events) must have it first; a mail before that is rejected, so
        # wait until the ticket's waiting status has certainly been consumed.
        await asyncio.sleep(3)

        # 1. Killed while the mail is in flight: no 250, the mail stays with the client.
        assert first.process.proc is not None
        os.kill(first.process.proc.pid, signal.SIGSTOP)
        in_flight = asyncio.create_task(deliver(port, msg, timeout=30))
        await asyncio.sleep(1.0)
        first.process.kill()
        with pytest.raises(aiosmtplib.SMTPException):
            await in_flight

        # 2. Retried into a process without relay: recorded and 250, nothing sent yet.
        second = make(False)
        second.process.start()
        await second.wait_ready()
        assert await deliver(port, msg) == "2.0.0 Message accepted"
        second.process.kill()  # between receipt and the comment
        await asyncio.sleep(2)
        found = await comments_of(ticket_api, admin, ticket["id"])
        assert not [c for c in found if c["body"] == TEXT], "commented before the relay ran"
        assert (await ticket_of(ticket_api, admin, ticket["id"]))["status"] == "waiting_on_user"

        # 3. Restarted with the relay: the command left in the outbox is published.
        third = make(True)
        third.process.start()
        await third.wait_ready()

        async def commented() -> list[dict[str, object]]:
            found = await comments_of(ticket_api, admin, ticket["id"])
            return [c for c in found if c["body"] == TEXT]

        (comment,) = await until(commented, timeout=30, what="the comment after the restart")
        assert (comment["visibility"], comment["author_id"]) == ("public", person_id)
        # The client, never sure, sends once more: a copy, acted on never again.
        assert await deliver(port, msg) == "2.0.0 Message accepted"

        async def in_progress() -> bool:
            status = (await ticket_of(ticket_api, admin, ticket["id"]))["status"]
            return bool(status == "in_progress")

        await until(in_progress, what="the ticket in progress")
        await asyncio.sleep(2)
        assert len(await commented()) == 1
        async with httpx.AsyncClient(base_url=third.url, timeout=10) as api:
            rows = (await api.get("/api/v1/inbound", headers=admin)).json()["items"]
        assert [(r["message_id"], r["outcome"]) for r in rows] == [
            (str(msg["Message-ID"]), "comment")
        ]
        with contextlib.suppress(ProcessLookupError):
            third.process.stop()
