"""Away episodes on the real stack: the requester's out-of-office reply reaches a waiting
ticket as an internal note of kind ``auto_reply``; the ticket keeps waiting, the reminders
go on, the episode is ``away``, and at the end it is resolved, never escalated, and held
against no one in the responsiveness register.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from escalation_support import event_bytes, kinds, put_policy, wait_escalations, wait_status

from stopclock_shared.events.codec import encode
from stopclock_shared.events.envelope import new_envelope
from stopclock_shared.events.topics import TICKETS_COMMANDS, TICKETS_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.events.vocabulary import Channel, NoteKind
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe, send_raw
from stopclock_shared.testing.stack import Stack

Register = dict[str, Any]
OUT_OF_OFFICE = "Automatic reply from the requester (out of office): back on Monday."


@pytest.fixture
async def escalation_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("escalation"), timeout=15) as client:
        yield client


async def register_of(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    person_id: str,
    until: Callable[[Register], bool],
    timeout: float = 20.0,
) -> Register:
    """The person's responsiveness once ``until`` holds (or as it is at the timeout)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        response = await client.get(f"/api/v1/people/{person_id}/responsiveness", headers=headers)
        assert response.status_code == 200, response.text
        figures: Register = response.json()
        if until(figures) or loop.time() > deadline:
            return figures
        await asyncio.sleep(0.25)


async def blocked_ticket_waiting_on_a_difficult_requester(
    escalation_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(person, the ticket snapshot as it entered waiting): without an away reply, the end of
    this ladder goes to the manager (blocked and difficult)."""
    service = await put_policy(escalation_api, admin, reminders=[3, 6], grace=3)
    manager = await put_person(ticket_api, admin, name="Mona Manager")
    person = await put_person(ticket_api, admin, manager_id=manager["id"], difficult=True)
    ticket = await open_ticket(ticket_api, admin, person["id"], service=service, work_blocked=True)
    await move(ticket_api, admin, ticket["id"], "in_progress")
    async with KafkaProbe(stack.kafka, TICKETS_EVENTS) as probe:
        await move(
            ticket_api,
            admin,
            ticket["id"],
            "waiting_on_user",
            reason="info_requested",
            note="Which VPN client version do you run?",
        )
        [waiting] = await probe.events_for(
            ticket["id"], type_=EventType.TICKET_STATUS_CHANGED, timeout=15
        )
    snapshot: dict[str, Any] = waiting["data"]["ticket"]
    return person, snapshot


def auto_reply_note(snapshot: dict[str, Any]) -> bytes:
    """The ``commented`` event the ticket service publishes for the mail gateway's note."""
    data = {
        "ticket": snapshot,
        "comment": {
            "id": str(uuid.uuid4()),
            "body": OUT_OF_OFFICE,
            "visibility": "internal",
            "author_id": "system:stopclock/notification",
            "author_is_requester": False,
            "created_at": datetime.now(UTC).isoformat(),
            "channel": Channel.EMAIL.value,
            "note_kind": NoteKind.AUTO_REPLY.value,
        },
    }
    return event_bytes(EventType.TICKET_COMMENTED, snapshot["id"], data)


async def check_away_to_the_end(
    escalation_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
    person: dict[str, Any],
    ticket_id: str,
) -> None:
    away = await register_of(escalation_api, admin, person["id"], lambda r: r["away_episodes"] == 1)
    assert (away["away_episodes"], away["open"], away["unanswered_episodes"]) == (1, 1, 0)
    # Still waiting on the requester: the clock stays stopped and the reminders go on.
    still = await ticket_api.get(f"/api/v1/tickets/{ticket_id}", headers=admin)
    assert still.json()["status"] == "waiting_on_user"
    async with httpx.AsyncClient(base_url=stack.url("sla"), timeout=15) as sla:
        clocks = (await sla.get(f"/api/v1/sla/tickets/{ticket_id}", headers=admin)).json()
    assert {c["state"] for c in clocks["clocks"] if c["target"] == "resolution"} == {"paused"}

    steps = await wait_escalations(
        escalation_api, admin, ticket_id, lambda items: len(items) >= 3, timeout=30
    )
    assert kinds(steps) == [("reminder", 1), ("reminder", 2), ("auto_resolve", 3)]
    assert "away" in steps[-1]["detail"]
    resolved = await wait_status(ticket_api, admin, ticket_id, "resolved")
    assert resolved["status"] == "resolved"

    ended = await register_of(
        escalation_api, admin, person["id"], lambda r: r["away_unanswered"] == 1
    )
    assert ended["waiting_episodes"] == 1
    assert (ended["away_episodes"], ended["away_unanswered"]) == (1, 1)
    assert (ended["unanswered_episodes"], ended["open"]) == (0, 0)
    assert ended["frequently_unresponsive"] is False


async def test_an_out_of_office_note_marks_the_episode_away_and_it_is_never_escalated(
    escalation_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    person, snapshot = await blocked_ticket_waiting_on_a_difficult_requester(
        escalation_api, ticket_api, admin, stack
    )
    await send_raw(stack.kafka, TICKETS_EVENTS, snapshot["id"], auto_reply_note(snapshot))
    await check_away_to_the_end(escalation_api, ticket_api, admin, stack, person, snapshot["id"])


async def test_an_ordinary_internal_note_leaves_the_episode_as_it_was(
    escalation_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    person, snapshot = await blocked_ticket_waiting_on_a_difficult_requester(
        escalation_api, ticket_api, admin, stack
    )
    note = await ticket_api.post(
        f"/api/v1/tickets/{snapshot['id']}/comments",
        json={"body": "Called her desk phone, no answer.", "visibility": "internal"},
        headers=admin,
    )
    assert note.status_code == 201, note.text
    steps = await wait_escalations(
        escalation_api, admin, snapshot["id"], lambda items: len(items) >= 3, timeout=30
    )
    assert kinds(steps) == [("reminder", 1), ("reminder", 2), ("manager_escalation", 3)]
    figures = await register_of(escalation_api, admin, person["id"], lambda r: r["open"] == 0)
    assert (figures["away_episodes"], figures["unanswered_episodes"]) == (0, 1)


async def test_the_mail_gateways_auto_reply_comment_command_marks_the_episode_away(
    escalation_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    """The whole path: the command the notification service sends for an out-of-office
    reply, through the ticket service's ``commented`` event, to the escalation service."""
    person, snapshot = await blocked_ticket_waiting_on_a_difficult_requester(
        escalation_api, ticket_api, admin, stack
    )
    command = new_envelope(
        EventType.COMMAND_COMMENT,
        source="stopclock/notification",
        subject=snapshot["id"],
        time=datetime.now(UTC),
        data={
            "ticket_id": snapshot["id"],
            "body": OUT_OF_OFFICE,
            "visibility": "internal",
            "channel": Channel.EMAIL.value,
            "note_kind": NoteKind.AUTO_REPLY.value,
        },
    )
    await send_raw(stack.kafka, TICKETS_COMMANDS, snapshot["id"], encode(command))
    await check_away_to_the_end(escalation_api, ticket_api, admin, stack, person, snapshot["id"])
