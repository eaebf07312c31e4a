"""Helpers of the inbound mail tests: a requester with a ticket waiting on them, our mail
asking them (its Message-ID and Reply-To), replies built like mail clients build them, and
polling the REST APIs until the stack has acted."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib
import httpx

from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.maildir import MailWatcher
from stopclock_shared.testing.stack import Stack, unique

DESK = "servicedesk@stopclock.local"
INBOUND = ("127.0.0.1", 2525)
QUESTION = "Which floor is the printer on?"
Json = dict[str, Any]


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 20.0, what: str = "") -> Any:
    """The first truthy result of ``check``; fails the test at the timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert loop.time() < deadline, f"timed out waiting for {what or 'the stack'}"
        await asyncio.sleep(0.2)


@dataclass
class Waiting:
    """A ticket waiting on its requester, and the mail that asked them."""

    person: Json
    ticket: Json
    question_id: str  # Message-ID of our info_requested mail
    reply_to: str  # where that mail asks replies to go (the desk address if no Reply-To)
    subject: str

    @property
    def email(self) -> str:
        return str(self.person["email"])


async def waiting_ticket(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], mails: MailWatcher
) -> Waiting:
    """A new requester's ticket, moved to waiting_on_user (info_requested), and our mail."""
    person_id = unique("mailer")
    person = await put_person(
        ticket_api, admin, person_id, name="Ada Mailer", email=f"{person_id}@example.test"
    )
    ticket = await open_ticket(ticket_api, admin, person_id, title="Printer jams")
    await move(ticket_api, admin, ticket["id"], "in_progress")
    await move(
        ticket_api, admin, ticket["id"], "waiting_on_user", reason="info_requested", note=QUESTION
    )

    def asked(m: EmailMessage) -> bool:
        return (
            str(m["To"]).lower().endswith(f"<{person['email']}>")
            or str(m["To"]).lower() == person["email"]
        ) and str(m.get("X-Stopclock-Kind", "")) == "info_requested"

    found = await mails.wait_for(asked, timeout=30)
    assert found, "the info_requested mail never reached the catcher"
    mail = found[0]
    return Waiting(
        person=person,
        ticket=ticket,
        question_id=str(mail["Message-ID"]),
        reply_to=str(mail.get("Reply-To") or DESK),
        subject=str(mail["Subject"]),
    )


def reply(
    to: Waiting,
    text: str,
    *,
    sender: str | None = None,
    quote: bool = True,
    threaded: bool = True,
    subject: str | None = None,
    **headers: str,
) -> EmailMessage:
    """A reply as a mail client writes it: new text on top, our mail quoted below."""
    msg = EmailMessage()
    msg["From"] = sender or f"Ada Mailer <{to.email}>"
    msg["To"] = to.reply_to if threaded else DESK
    msg["Subject"] = subject if subject is not None else f"Re: {to.subject}"
    msg["Message-ID"] = make_msgid(domain="client.example.test")
    msg["Date"] = "Thu, 03 Dec 2026 12:00:00 +0000"
    if threaded:
        msg["In-Reply-To"] = to.question_id
        msg["References"] = to.question_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    body = text
    if quote:
        body += (
            "\n\nOn Thu, 3 Dec 2026 at 11:00, Stopclock Service Desk <servicedesk@stopclock.local>"
            f" wrote:\n> {QUESTION}\n> \n> Reply to this email.\n"
        )
    msg.set_content(body)
    return msg


async def send(msg: EmailMessage, rcpt: list[str] | None = None) -> str:
    """Send to the desk's inbound SMTP; the server's answer text (raises on a refusal)."""
    host, port = INBOUND
    _, answer = await aiosmtplib.send(msg, hostname=host, port=port, recipients=rcpt)
    return answer


async def inbound_of(api: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[Json]:
    response = await api.get("/api/v1/inbound", params={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[Json] = response.json()["items"]
    return items


async def inbound_by_message_id(
    api: httpx.AsyncClient, headers: dict[str, str], sender: str, message_id: str
) -> Json:
    async def find() -> Json | None:
        rows = await inbound_of(api, headers, sender=sender)
        return next((r for r in rows if r["message_id"] == message_id), None)

    found: Json = await until(find, what=f"inbound record of {message_id}")
    return found


async def deliver(
    api: httpx.AsyncClient, headers: dict[str, str], msg: EmailMessage, sender: str
) -> Json:
    """Send a mail to the desk and wait for what the inbound log recorded of it."""
    await send(msg)
    return await inbound_by_message_id(api, headers, sender, str(msg["Message-ID"]))


async def comments_of(
    api: httpx.AsyncClient, headers: dict[str, str], ticket_id: str
) -> list[Json]:
    response = await api.get(f"/api/v1/tickets/{ticket_id}/comments", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    items: list[Json] = body["items"] if isinstance(body, dict) else body
    return items


async def ticket_of(api: httpx.AsyncClient, headers: dict[str, str], ticket_id: str) -> Json:
    response = await api.get(f"/api/v1/tickets/{ticket_id}", headers=headers)
    assert response.status_code == 200, response.text
    ticket: Json = response.json()
    return ticket


async def resolution_clock(stack: Stack, ticket_id: str) -> Json | None:
    async with httpx.AsyncClient(base_url=stack.url("sla"), timeout=10) as sla:
        response = await sla.get(
            f"/api/v1/sla/tickets/{ticket_id}", headers=stack.auth("tests", "agent")
        )
    if response.status_code != 200:
        return None
    clocks = {c["target"]: c for c in response.json()["clocks"]}
    return clocks.get("resolution")
