"""Mails through the real stack: ticket API -> Kafka -> notification service -> SMTP catcher
-> Maildir, and the notification log and preferences APIs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from stopclock_shared.events.topics import NOTIFICATIONS_EVENTS
from stopclock_shared.events.types import EventType
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
