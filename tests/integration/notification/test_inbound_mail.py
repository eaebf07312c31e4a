"""Mail to the desk on the live stack: replies sent over SMTP to 127.0.0.1:2525, checked
through the ticket, SLA and notification APIs (nothing mocked)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import httpx
import pytest
from inbound_support import (
    DESK,
    INBOUND,
    comments_of,
    deliver,
    inbound_by_message_id,
    inbound_of,
    reply,
    resolution_clock,
    send,
    ticket_of,
    until,
    waiting_ticket,
)

from stopclock_shared.testing.factories import move, put_person
from stopclock_shared.testing.maildir import MailWatcher
from stopclock_shared.testing.stack import Stack, unique

NEW_TEXT = "It is on the third floor, next to the kitchen."


@pytest.fixture
def admin(stack: Stack) -> dict[str, str]:
    return stack.auth("desk-admin", "admin", "agent")


@pytest.fixture
async def ticket_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("ticket"), timeout=15) as client:
        yield client


async def test_a_reply_with_quoted_history_is_one_public_comment_and_restarts_the_clock(
    stack: Stack,
    ticket_api: httpx.AsyncClient,
    notification_api: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
) -> None:
    waiting = await waiting_ticket(ticket_api, admin, mails)
    ticket_id = waiting.ticket["id"]
    paused = await until(lambda: resolution_clock(stack, ticket_id), what="the resolution clock")
    assert paused["state"] == "paused"
    answer = reply(waiting, NEW_TEXT)
    assert await send(answer) == "2.0.0 Message accepted"

    record = await inbound_by_message_id(
        notification_api, admin, waiting.email, str(answer["Message-ID"])
    )
    assert (record["outcome"], record["ticket_id"]) == ("comment", ticket_id)

    async def public() -> list[dict[str, object]]:
        found = await comments_of(ticket_api, admin, ticket_id)
        return [c for c in found if c["visibility"] == "public"]

    (comment,) = await until(public, what="the requester's comment")
    assert comment["body"] == NEW_TEXT  # the quoted question is gone
    assert (comment["channel"], comment["author_id"]) == ("email", waiting.person["id"])

    async def in_progress() -> bool:
        return bool((await ticket_of(ticket_api, admin, ticket_id))["status"] == "in_progress")

    await until(in_progress, what="the ticket back in progress")

    async def running() -> bool:
        clock = await resolution_clock(stack, ticket_id)
        return clock is not None and bool(clock["state"] == "running")

    await until(running, what="the clock running again")


async def test_an_out_of_office_reply_leaves_the_ticket_waiting_and_the_clock_paused(
    stack: Stack,
    ticket_api: httpx.AsyncClient,
    notification_api: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
) -> None:
    waiting = await waiting_ticket(ticket_api, admin, mails)
    ticket_id = waiting.ticket["id"]
    away = reply(
        waiting,
        "I am out of the office until Monday with limited access to email.",
        quote=False,
        subject=f"Automatic reply: {waiting.subject}",
        Auto_Submitted="auto-replied",
    )
    record = await deliver(notification_api, admin, away, waiting.email)
    assert (record["outcome"], record["ticket_id"]) == ("auto_reply", ticket_id)

    async def noted() -> list[dict[str, object]]:
        found = await comments_of(ticket_api, admin, ticket_id)
        return [c for c in found if "out of the office" in str(c["body"])]

    (note,) = await until(noted, what="the internal note")
    assert note["visibility"] == "internal"
    assert (await ticket_of(ticket_api, admin, ticket_id))["status"] == "waiting_on_user"
    clock = await resolution_clock(stack, ticket_id)
    assert clock is not None
    assert clock["state"] == "paused"

    async def marked_away() -> bool:
        # The escalation service marks the wait `away` from the note's kind.
        person_id = waiting.person["id"]
        async with httpx.AsyncClient(base_url=stack.url("escalation"), timeout=10) as esc:
            response = await esc.get(f"/api/v1/people/{person_id}/responsiveness", headers=admin)
        return response.status_code == 200 and bool(response.json()["away_episodes"] == 1)

    await until(marked_away, what="the waiting episode marked away")


async def test_a_strangers_reply_is_an_internal_note_that_changes_nothing(
    ticket_api: httpx.AsyncClient,
    notification_api: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
) -> None:
    waiting = await waiting_ticket(ticket_api, admin, mails)
    ticket_id = waiting.ticket["id"]
    stranger = f"{unique('stranger')}@example.test"
    answer = reply(waiting, "I sit next to Ada; the printer is broken.", sender=stranger)
    record = await deliver(notification_api, admin, answer, stranger)
    assert (record["outcome"], record["ticket_id"]) == ("internal_comment", ticket_id)

    async def noted() -> list[dict[str, object]]:
        found = await comments_of(ticket_api, admin, ticket_id)
        return [c for c in found if "unverified sender" in str(c["body"])]

    (note,) = await until(noted, what="the internal note")
    assert note["visibility"] == "internal"
    assert stranger in str(note["body"])
    found = await comments_of(ticket_api, admin, ticket_id)
    assert not [c for c in found if c["visibility"] == "public"]
    assert (await ticket_of(ticket_api, admin, ticket_id))["status"] == "waiting_on_user"


async def test_a_ticket_number_in_the_subject_threads_the_requesters_fresh_mail(
    ticket_api: httpx.AsyncClient,
    notification_api: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
) -> None:
    waiting = await waiting_ticket(ticket_api, admin, mails)
    ticket_id, number = waiting.ticket["id"], waiting.ticket["number"]
    fresh = reply(
        waiting, "Floor 3.", quote=False, threaded=False, subject=f"About my printer [{number}]"
    )
    record = await deliver(notification_api, admin, fresh, waiting.email)
    assert (record["outcome"], record["ticket_id"]) == ("comment", ticket_id)
    assert number in record["detail"]

    async def in_progress() -> bool:
        return bool((await ticket_of(ticket_api, admin, ticket_id))["status"] == "in_progress")

    await until(in_progress, what="the ticket back in progress")


def to_desk(sender: str, subject: str, text: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = DESK
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="client.example.test")
    msg.set_content(text)
    return msg


async def test_a_known_person_writing_to_the_desk_opens_a_ticket_and_its_confirmation_threads(
    ticket_api: httpx.AsyncClient,
    notification_api: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
) -> None:
    person_id = unique("writer")
    email = f"{person_id}@example.test"
    await put_person(ticket_api, admin, person_id, name="Wanda Writer", email=email)

    async def opened() -> dict[str, object] | None:
        # The directory replica follows people.events within moments; until it has the
        # person, a mail is (correctly) rejected, so each try is a new mail.
        msg = to_desk(f"Wanda <{email.upper()}>", "Re: Scanner offline", "The scanner is off.")
        record = await deliver(notification_api, admin, msg, email)
        return record if record["outcome"] == "new_ticket" else None

    record = await until(opened, what="a new ticket by mail")
    ticket_id = str(record["ticket_id"])
    uuid.UUID(ticket_id)

    async def created() -> dict[str, object] | None:
        response = await ticket_api.get(f"/api/v1/tickets/{ticket_id}", headers=admin)
        return response.json() if response.status_code == 200 else None

    ticket = await until(created, what="the ticket opened by mail")
    assert ticket["requester_id"] == person_id
    assert ticket["title"] == "Scanner offline"
    assert ticket["description"] == "The scanner is off."

    confirmations = await mails.wait_for(
        lambda m: (
            str(m.get("X-Stopclock-Kind", "")) == "ticket_opened" and email in str(m["To"]).lower()
        ),
        timeout=20,
    )
    assert confirmations, "no confirmation mail"
    assert str(confirmations[0]["In-Reply-To"]) == record["message_id"]


async def test_the_requesters_reply_to_a_closed_ticket_opens_a_follow_up(
    ticket_api: httpx.AsyncClient,
    notification_api: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
) -> None:
    waiting = await waiting_ticket(ticket_api, admin, mails)
    ticket_id = waiting.ticket["id"]
    await move(ticket_api, admin, ticket_id, "in_progress")
    await move(ticket_api, admin, ticket_id, "resolved", resolution="Printer replaced.")
    await move(ticket_api, admin, ticket_id, "closed")

    async def replied() -> dict[str, object] | None:
        # Each try is a new mail: the replica learns of the closing within moments.
        answer = reply(waiting, "It jams again since this morning.")
        record = await deliver(notification_api, admin, answer, waiting.email)
        return record if record["outcome"] == "new_ticket" else None

    record = await until(replied, what="a follow-up ticket")
    follow_up_id = str(record["ticket_id"])
    assert follow_up_id != ticket_id

    async def opened() -> dict[str, object] | None:
        response = await ticket_api.get(f"/api/v1/tickets/{follow_up_id}", headers=admin)
        return response.json() if response.status_code == 200 else None

    follow_up = await until(opened, what="the follow-up ticket")
    assert follow_up["requester_id"] == waiting.person["id"]
    assert follow_up["status"] == "new"
    assert follow_up["description"].startswith(
        f"Follow-up of {waiting.ticket['number']}, which was closed."
    )
    assert "It jams again since this morning." in follow_up["description"]
    closed = await ticket_of(ticket_api, admin, ticket_id)
    assert closed["status"] == "closed"


async def test_an_unknown_sender_is_recorded_rejected_and_opens_nothing(
    notification_api: httpx.AsyncClient, admin: dict[str, str], mails: MailWatcher
) -> None:
    sender = f"{unique('unknown')}@example.test"
    msg = to_desk(sender, "Buy cheap printers", "Best prices.")
    assert await send(msg) == "2.0.0 Message accepted"  # no refusal, no backscatter
    record = await inbound_by_message_id(notification_api, admin, sender, str(msg["Message-ID"]))
    assert (record["outcome"], record["ticket_id"]) == ("rejected", None)
    assert "unknown sender" in record["detail"]
    assert not mails.to(sender)


async def test_mail_from_our_own_address_is_a_loop_and_rejected(
    notification_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    msg = to_desk(DESK, f"Loop {unique('loop')}", "ping")
    record = await deliver(notification_api, admin, msg, DESK)
    assert record["outcome"] == "rejected"
    assert record["detail"].startswith("loop")


async def test_a_bounce_of_our_mail_marks_it_bounced_and_tells_the_agent(
    ticket_api: httpx.AsyncClient,
    notification_api: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
) -> None:
    waiting = await waiting_ticket(ticket_api, admin, mails)
    ticket_id = waiting.ticket["id"]
    dsn_id, dsn = delivery_status_notification(waiting.email, waiting.question_id)
    host, port = INBOUND
    async with aiosmtplib.SMTP(hostname=host, port=port) as client:
        await client.sendmail("", [DESK], dsn)  # a DSN has the null sender, MAIL FROM:<>

    record = await inbound_by_message_id(
        notification_api, admin, "mailer-daemon@mx.example.test", dsn_id
    )
    assert (record["outcome"], record["ticket_id"]) == ("bounce", ticket_id)

    async def bounced() -> list[dict[str, object]]:
        response = await notification_api.get(
            "/api/v1/notifications",
            params={"ticket_id": ticket_id, "status": "bounced"},
            headers=admin,
        )
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    (mail,) = await until(bounced, what="the notification marked bounced")
    assert mail["message_id"] == waiting.question_id
    assert "5.1.1" in str(mail["last_error"])

    async def noted() -> list[dict[str, object]]:
        found = await comments_of(ticket_api, admin, ticket_id)
        return [c for c in found if "could not be delivered" in str(c["body"])]

    (note,) = await until(noted, what="the agent's note about the bounce")
    assert note["visibility"] == "internal"


def delivery_status_notification(recipient: str, original_id: str) -> tuple[str, bytes]:
    """An RFC 3464 DSN as Postfix writes it (its Message-ID and bytes): a text part, the
    delivery status, and the headers of our mail."""
    message_id = make_msgid(domain="mx.example.test")
    raw = f"""\
From: Mail Delivery System <MAILER-DAEMON@mx.example.test>
To: {DESK}
Subject: Undelivered Mail Returned to Sender
Message-ID: {message_id}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.test

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown

--BOUNDARY
Content-Type: text/rfc822-headers

From: Stopclock Service Desk <{DESK}>
To: {recipient}
Subject: [INC] We need more information
Message-ID: {original_id}

--BOUNDARY--
"""
    return message_id, raw.replace("\n", "\r\n").encode()


async def test_a_mail_sent_twice_acts_once(
    ticket_api: httpx.AsyncClient,
    notification_api: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
) -> None:
    waiting = await waiting_ticket(ticket_api, admin, mails)
    ticket_id = waiting.ticket["id"]
    answer = reply(waiting, "Sent twice by a nervous client.")
    await send(answer)
    await send(answer)  # the same Message-ID: 250 again, nothing more

    async def public() -> list[dict[str, object]]:
        found = await comments_of(ticket_api, admin, ticket_id)
        return [c for c in found if c["visibility"] == "public"]

    assert len(await until(public, what="the comment")) == 1
    rows = await inbound_of(notification_api, admin, ticket_id=ticket_id)
    assert [r["message_id"] for r in rows].count(str(answer["Message-ID"])) == 1
    # Give a second comment (if any) the time to arrive before counting again.
    await until(lambda: _settled(ticket_api, admin, ticket_id), what="the ticket to settle")
    assert len(await public()) == 1


async def _settled(api: httpx.AsyncClient, headers: dict[str, str], ticket_id: str) -> bool:
    return bool((await ticket_of(api, headers, ticket_id))["status"] == "in_progress")


async def test_an_oversize_mail_is_refused_552() -> None:
    msg = to_desk("ada@example.test", "Huge", "x" * (11 * 1024 * 1024))
    host, port = INBOUND
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await aiosmtplib.send(msg, hostname=host, port=port, timeout=60)
    assert refused.value.code == 552


async def test_the_inbound_log_is_for_staff_only(
    stack: Stack, notification_api: httpx.AsyncClient
) -> None:
    response = await notification_api.get(
        "/api/v1/inbound", headers=stack.auth(unique("req"), "requester")
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    response = await notification_api.get(
        "/api/v1/inbound", params={"cursor": "garbage"}, headers=stack.auth("a", "agent")
    )
    assert response.status_code == 422


async def test_readiness_includes_the_bound_inbound_listener(
    notification_api: httpx.AsyncClient,
) -> None:
    response = await notification_api.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["inbound_smtp"] == "ok"
