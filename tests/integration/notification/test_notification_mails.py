"""Mails through the real stack: ticket API -> Kafka -> notification service -> SMTP catcher
-> Maildir, and the notification log and preferences APIs."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

import httpx
from notification_support import produce

from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.topics import NOTIFICATIONS_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.links import read_answer_token, read_reply_address
from stopclock_shared.settings import Settings
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe
from stopclock_shared.testing.maildir import MailWatcher, body_text
from stopclock_shared.testing.stack import Stack, unique

# After the awaited mail, how long a second (duplicate) one would still have to show up.
SETTLE_SECONDS = 1.5


async def log_of(
    api: httpx.AsyncClient, headers: dict[str, str], count: int = 1, **query: str
) -> list[dict[str, Any]]:
    """The log entries matching ``query`` once ``count`` of them are `sent` (or after 15 s)."""
    items: list[dict[str, Any]] = []
    for _ in range(150):
        response = await api.get("/api/v1/notifications", params=query, headers=headers)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if sum(i["status"] == "sent" for i in items) >= count:
            break
        await asyncio.sleep(0.1)
    return items


async def test_opening_a_ticket_mails_exactly_one_confirmation_logged_as_sent(
    ticket_api: httpx.AsyncClient,
    notification_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
    mails: MailWatcher,
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"], title="Laptop will not boot")

    [mail] = await mails.wait_to(person["email"])
    await asyncio.sleep(SETTLE_SECONDS)
    assert len(mails.to(person["email"])) == 1
    assert ticket["number"] in str(mail["Subject"])
    assert ticket["number"] in body_text(mail)

    [entry] = await log_of(notification_api, admin, ticket_id=ticket["id"])
    assert entry["kind"] == "ticket_opened"
    assert entry["status"] == "sent"
    assert entry["recipient"] == person["email"]
    assert entry["message_id"] == mail["Message-ID"]
    assert entry["subject"] == str(mail["Subject"])
    assert entry["sent_at"] is not None


async def test_a_requester_sees_only_the_mails_sent_to_them(
    ticket_api: httpx.AsyncClient,
    notification_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
    mails: MailWatcher,
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    await mails.wait_to(person["email"])

    mine = await log_of(
        notification_api, stack.auth(person["id"], "requester"), ticket_id=ticket["id"]
    )
    theirs = await notification_api.get(
        "/api/v1/notifications",
        params={"ticket_id": ticket["id"]},
        headers=stack.auth(unique("stranger"), "requester"),
    )
    assert [m["recipient_id"] for m in mine] == [person["id"]]
    assert theirs.json() == {"items": [], "next_cursor": None}


async def test_the_agents_question_reaches_the_requester_verbatim(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], mails: MailWatcher
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    question = f"Which VPN client version do you run? ({unique('q')})"
    await move(ticket_api, admin, ticket["id"], "in_progress")
    await move(
        ticket_api, admin, ticket["id"], "waiting_on_user", reason="info_requested", note=question
    )

    asked = await mails.wait_for(
        lambda m: str(m["To"]) == person["email"] and question in body_text(m)
    )
    assert len(asked) == 1
    assert ticket["number"] in str(asked[0]["Subject"])


async def test_every_subscriber_of_a_service_gets_exactly_one_outage_notice(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], mails: MailWatcher
) -> None:
    service = unique("svc")
    people = [await put_person(ticket_api, admin) for _ in range(3)]
    for person in people:
        response = await ticket_api.put(
            f"/api/v1/services/{service}/subscribers/{person['id']}", headers=admin
        )
        assert response.status_code in (200, 201), response.text
    outage = await ticket_api.post(
        "/api/v1/outages",
        json={
            "service": service,
            "title": "Mail gateway down",
            "description": "Outgoing mail is queued.",
            "impact": "high",
        },
        headers=admin,
    )
    assert outage.status_code == 201, outage.text

    for person in people:
        await mails.wait_to(person["email"])
    await asyncio.sleep(SETTLE_SECONDS)
    for person in people:
        [notice] = mails.to(person["email"])
        assert "Mail gateway down" in str(notice["Subject"])


async def test_mandatory_and_unknown_kinds_cannot_be_opted_out(
    notification_api: httpx.AsyncClient, stack: Stack
) -> None:
    person_id = unique("person")
    me = stack.auth(person_id, "requester")
    url = f"/api/v1/preferences/{person_id}"

    refused = await notification_api.put(
        url, json={"opt_out": ["closed", "ticket_opened", "teleport"]}, headers=me
    )

    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert {e["field"] for e in problem["errors"]} == {"opt_out.1", "opt_out.2"}
    assert "mandatory" in problem["errors"][0]["message"]
    assert (await notification_api.get(url, headers=me)).json()["opt_out"] == []


async def test_a_person_manages_their_own_preferences_but_not_someone_elses(
    notification_api: httpx.AsyncClient, stack: Stack, admin: dict[str, str]
) -> None:
    person_id = unique("person")
    me = stack.auth(person_id, "requester")
    url = f"/api/v1/preferences/{person_id}"

    mine = await notification_api.put(url, json={"opt_out": ["closed", "closed"]}, headers=me)
    other = await notification_api.put(
        f"/api/v1/preferences/{unique('person')}", json={"opt_out": []}, headers=me
    )
    by_staff = await notification_api.get(url, headers=admin)

    assert mine.status_code == 200
    assert mine.json()["opt_out"] == ["closed"]
    assert other.status_code == 403
    assert by_staff.json()["opt_out"] == ["closed"]


async def test_an_opted_out_optional_kind_is_neither_sent_nor_logged(
    ticket_api: httpx.AsyncClient,
    notification_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
    mails: MailWatcher,
) -> None:
    service = unique("svc")
    keen, quiet = await put_person(ticket_api, admin), await put_person(ticket_api, admin)
    opted = await notification_api.put(
        f"/api/v1/preferences/{quiet['id']}",
        json={"opt_out": ["outage_notice"]},
        headers=stack.auth(quiet["id"], "requester"),
    )
    assert opted.status_code == 200, opted.text
    for person in (keen, quiet):
        await ticket_api.put(
            f"/api/v1/services/{service}/subscribers/{person['id']}", headers=admin
        )
    await ticket_api.post(
        "/api/v1/outages",
        json={"service": service, "title": "VPN down", "description": "x", "impact": "low"},
        headers=admin,
    )

    # Both mails come from the same event and would be recorded in the same transaction.
    await mails.wait_to(keen["email"])
    await asyncio.sleep(SETTLE_SECONDS)
    assert mails.to(quiet["email"]) == []
    logged = await notification_api.get(
        "/api/v1/notifications", params={"recipient": quiet["id"]}, headers=admin
    )
    assert logged.json()["items"] == []


async def test_the_log_is_paginated_with_a_cursor(
    ticket_api: httpx.AsyncClient,
    notification_api: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
) -> None:
    person = await put_person(ticket_api, admin)
    for _ in range(3):
        await open_ticket(ticket_api, admin, person["id"])
    await mails.wait_to(person["email"], count=3)

    first = await notification_api.get(
        "/api/v1/notifications", params={"recipient": person["email"], "limit": 2}, headers=admin
    )
    cursor = first.json()["next_cursor"]
    rest = await notification_api.get(
        "/api/v1/notifications",
        params={"recipient": person["email"], "limit": 2, "cursor": cursor},
        headers=admin,
    )

    assert len(first.json()["items"]) == 2
    assert cursor is not None
    assert len(rest.json()["items"]) == 1
    assert rest.json()["next_cursor"] is None
    ids = [i["id"] for i in first.json()["items"] + rest.json()["items"]]
    assert len(set(ids)) == 3


async def test_the_log_needs_a_token(notification_api: httpx.AsyncClient) -> None:
    response = await notification_api.get("/api/v1/notifications")
    assert response.status_code == 401


async def test_a_sent_mail_is_announced_on_notifications_events(
    ticket_api: httpx.AsyncClient,
    notification_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
    mails: MailWatcher,
) -> None:
    async with KafkaProbe(stack.kafka, NOTIFICATIONS_EVENTS) as probe:
        person = await put_person(ticket_api, admin)
        ticket = await open_ticket(ticket_api, admin, person["id"])
        [mail] = await mails.wait_to(person["email"])
        [event] = await probe.events_for(ticket["id"], type_=EventType.NOTIFICATION_SENT)

    assert event["data"]["kind"] == "ticket_opened"
    assert event["data"]["recipient"] == person["email"]
    assert event["data"]["message_id"] == mail["Message-ID"]
    assert event["data"]["attempts"] == 1
    [entry] = await log_of(notification_api, admin, ticket_id=ticket["id"])
    assert event["data"]["notification_id"] == entry["id"]


# --- answering from the mail --------------------------------------------------------------

# The stack's services read the same STOPCLOCK_* environment as the tests (make test).
LINKS = Settings()


def reply_tag_of(mail: EmailMessage) -> Any:
    """The verified tag of the mail's Reply-To (fails when it has none or it is not ours)."""
    assert mail["Reply-To"] is not None, "the mail has no Reply-To"
    [address] = mail["Reply-To"].addresses
    tag = read_reply_address(LINKS.link_key, LINKS.desk_address, address.addr_spec)
    assert tag is not None, f"{address.addr_spec} is not a reply address of our desk"
    return tag


async def test_a_requester_mail_comes_from_the_desk_and_replies_go_back_to_the_ticket(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], mails: MailWatcher
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])

    [mail] = await mails.wait_to(person["email"])

    assert parseaddr(str(mail["From"]))[1] == LINKS.desk_address
    tag = reply_tag_of(mail)
    assert tag.ticket_id == uuid.UUID(ticket["id"])
    assert tag.sent_to(person["email"])
    assert f"[{ticket['number']}]" in str(mail["Subject"])
    assert "reply to this email" in body_text(mail).lower()


async def test_a_fix_to_check_links_to_the_answer_page_of_that_wait(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], mails: MailWatcher
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    await move(ticket_api, admin, ticket["id"], "in_progress")
    asked_at = datetime.now(UTC)
    await move(
        ticket_api,
        admin,
        ticket["id"],
        "waiting_on_user",
        reason="user_validation",
        note="We replaced the VPN profile; does it hold now?",
    )

    [mail] = await mails.wait_for(
        lambda m: str(m["To"]) == person["email"] and m["X-Stopclock-Kind"] == "info_requested"
    )

    text = body_text(mail)
    base = re.escape(LINKS.public_survey_url.rstrip("/"))
    found = re.findall(rf"{base}/a/([A-Za-z0-9_-]+)\?answer=(yes|no)", text)
    assert sorted(answer for _, answer in found) == ["no", "yes"]
    assert len({token for token, _ in found}) == 1
    ref = read_answer_token(LINKS.link_key, found[0][0])
    assert ref is not None
    assert ref.ticket_id == uuid.UUID(ticket["id"])
    assert asked_at - timedelta(seconds=5) <= ref.waiting_since <= datetime.now(UTC)
    html = mail.get_body(("html",))
    assert html is not None
    assert f"/a/{found[0][0]}?answer=yes" in str(html.get_content())
    assert reply_tag_of(mail).ticket_id == uuid.UUID(ticket["id"])


async def test_the_confirmation_of_a_ticket_opened_by_mail_threads_with_that_mail(
    stack: Stack, mails: MailWatcher, make_ticket_created: Callable[..., Envelope]
) -> None:
    address = f"{unique('mailer')}@example.test"
    source = f"<{unique('m')}@mail.example.test>"
    created = make_ticket_created(email=address, number="INC7000001")
    envelope = created.model_copy(
        update={"data": {**created.data, "channel": "email", "source_message_id": source}}
    )

    await produce(stack.kafka, [envelope])

    [mail] = await mails.wait_to(address)
    assert mail["In-Reply-To"] == source
    assert str(mail["References"]).split()[0] == source
    assert not str(mail["Subject"]).lower().startswith("re:")
    assert "[INC7000001]" in str(mail["Subject"])
    assert "We opened ticket INC7000001 from your email" in " ".join(body_text(mail).split())
    assert reply_tag_of(mail).ticket_id == uuid.UUID(created.data["ticket"]["id"])
