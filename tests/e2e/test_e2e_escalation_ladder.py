"""Chasing an unresponsive requester, end to end: ticket API in, mails and APIs out.

Short timings of our own (reminders 2 s and 4 s after waiting starts, grace 2 s) under a
policy that matches a fresh service name only. Needs the whole stack: ticket, escalation
and notification services, Kafka, PostgreSQL and the SMTP catcher's Maildir.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.maildir import MailWatcher
from stopclock_shared.testing.stack import Stack, unique

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
REMINDERS = [2, 4]
GRACE = 2
LADDER_SECONDS = REMINDERS[-1] + GRACE


@pytest.fixture
async def escalation(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("escalation"), timeout=15) as client:
        yield client


@pytest.fixture
async def service(escalation: httpx.AsyncClient, admin: dict[str, str]) -> str:
    """A fresh service name whose tickets follow the short ladder (min 2 unanswered episodes)."""
    name = unique("ladder")
    body = {
        "match": {"service": name},
        "order": 0,
        "reminders": REMINDERS,
        "final_grace_seconds": GRACE,
        "calendar": "24x7",
        "manager_escalation": {
            "requires_work_blocked": True,
            "min_unresponsive_episodes": 2,
            "window_days": 30,
        },
    }
    response = await escalation.put(f"/api/v1/escalation/policies/{name}", json=body, headers=admin)
    assert response.status_code in (200, 201), response.text
    return name


def kind_of(mail: EmailMessage) -> str:
    return str(mail["X-Stopclock-Kind"] or "")


def mails_to(mails: MailWatcher, address: str, kind: str | None = None) -> list[EmailMessage]:
    return [m for m in mails.to(address) if kind is None or kind_of(m) == kind]


async def wait_mails(
    mails: MailWatcher, address: str, kind: str, count: int, timeout: float = 25.0
) -> list[EmailMessage]:
    found = await mails.wait_for(
        lambda m: str(m["To"]).lower() == address.lower() and kind_of(m) == kind, count, timeout
    )
    assert len(found) >= count, (
        f"{len(found)} {kind} mail(s) to {address}, expected {count}; is the notification "
        "service running?"
    )
    return found


async def steps_of(
    escalation: httpx.AsyncClient, headers: dict[str, str], ticket_id: str, count: int
) -> list[tuple[str, int]]:
    """The ticket's escalations (kind, level) once ``count`` happened, or at the timeout."""
    items: list[dict[str, Any]] = []
    for _ in range(120):
        response = await escalation.get(
            "/api/v1/escalations", params={"ticket_id": ticket_id}, headers=headers
        )
        items = response.json()["items"]
        if len(items) >= count:
            break
        await asyncio.sleep(0.25)
    return [(i["kind"], i["level"]) for i in items]


async def wait_on(tickets: httpx.AsyncClient, headers: dict[str, str], ticket_id: str) -> None:
    await move(tickets, headers, ticket_id, "in_progress")
    await move(
        tickets,
        headers,
        ticket_id,
        "waiting_on_user",
        reason="info_requested",
        note="Which version of the VPN client do you run?",
    )


async def test_a_blocked_difficult_requester_is_reminded_twice_then_their_manager_mailed_once(
    tickets: httpx.AsyncClient,
    escalation: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
    service: str,
) -> None:
    manager = await put_person(tickets, admin, name="Maria Manager")
    requester = await put_person(tickets, admin, manager_id=manager["id"], difficult=True)
    ticket = await open_ticket(tickets, admin, requester["id"], service=service, work_blocked=True)
    await wait_on(tickets, admin, ticket["id"])

    steps = await steps_of(escalation, admin, ticket["id"], 3)
    assert steps == [("reminder", 1), ("reminder", 2), ("manager_escalation", 3)]
    reminders = await wait_mails(mails, requester["email"], "reminder", 2)
    [to_manager] = await wait_mails(mails, manager["email"], "manager_escalation", 1)
    assert all(ticket["number"] in str(m["Subject"]) for m in [*reminders, to_manager])
    await asyncio.sleep(2)  # nothing more may follow
    assert len(mails_to(mails, manager["email"])) == 1
    assert len(mails_to(mails, requester["email"], "reminder")) == 2
    still = await tickets.get(f"/api/v1/tickets/{ticket['id']}", headers=admin)
    assert still.json()["status"] == "waiting_on_user"


async def test_an_unblocked_requester_is_reminded_then_the_ticket_resolved_without_the_manager(
    tickets: httpx.AsyncClient,
    escalation: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
    service: str,
) -> None:
    manager = await put_person(tickets, admin, name="Mario Manager")
    requester = await put_person(tickets, admin, manager_id=manager["id"], difficult=True)
    ticket = await open_ticket(tickets, admin, requester["id"], service=service, work_blocked=False)
    await wait_on(tickets, admin, ticket["id"])

    steps = await steps_of(escalation, admin, ticket["id"], 3)
    assert steps == [("reminder", 1), ("reminder", 2), ("auto_resolve", 3)]
    resolved = {}
    for _ in range(80):
        resolved = (await tickets.get(f"/api/v1/tickets/{ticket['id']}", headers=admin)).json()
        if resolved["status"] == "resolved":
            break
        await asyncio.sleep(0.25)
    assert resolved["status"] == "resolved"
    assert "reopened" in resolved["resolution"]
    await wait_mails(mails, requester["email"], "reminder", 2)
    await wait_mails(mails, requester["email"], "resolved", 1)
    await asyncio.sleep(2)
    assert mails_to(mails, manager["email"]) == []


async def test_a_requester_who_answers_after_the_first_reminder_gets_no_second_one(
    tickets: httpx.AsyncClient,
    escalation: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
    service: str,
    stack: Stack,
) -> None:
    requester = await put_person(tickets, admin)
    ticket = await open_ticket(tickets, admin, requester["id"], service=service, work_blocked=True)
    await wait_on(tickets, admin, ticket["id"])
    [first] = await wait_mails(mails, requester["email"], "reminder", 1, timeout=15)
    answer = await tickets.post(
        f"/api/v1/tickets/{ticket['id']}/comments",
        json={"body": "Version 5.2, sorry for the delay.", "visibility": "public"},
        headers=stack.auth(requester["id"], "requester"),
    )
    assert answer.status_code == 201, answer.text
    await asyncio.sleep(LADDER_SECONDS)

    assert ticket["number"] in str(first["Subject"])
    assert len(mails_to(mails, requester["email"], "reminder")) == 1
    steps = await steps_of(escalation, admin, ticket["id"], 1)
    assert steps == [("reminder", 1)]
    register = await escalation.get(
        f"/api/v1/people/{requester['id']}/responsiveness", headers=admin
    )
    figures = register.json()
    assert (figures["waiting_episodes"], figures["answered"]) == (1, 1)
    assert figures["unanswered_episodes"] == 0
    assert figures["median_response_seconds"] >= REMINDERS[0]
    now = (await tickets.get(f"/api/v1/tickets/{ticket['id']}", headers=admin)).json()
    assert now["status"] == "in_progress"
