"""Events and commands of the ticket service over the real Kafka broker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import orjson

from stopclock_shared.events.codec import encode
from stopclock_shared.events.envelope import new_envelope
from stopclock_shared.events.topics import TICKETS_COMMANDS, TICKETS_EVENTS, dlq
from stopclock_shared.events.types import EventType
from stopclock_shared.testing.factories import open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe, send_raw
from stopclock_shared.testing.stack import Stack, unique


async def test_created_ticket_event_carries_envelope_and_snapshot(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    manager = await put_person(ticket_api, admin, name="Maria Manager")
    person = await put_person(
        ticket_api, admin, manager_id=manager["id"], timezone="Europe/Paris", locale="fr"
    )
    async with KafkaProbe(stack.kafka, TICKETS_EVENTS) as probe:
        ticket = await open_ticket(ticket_api, admin, person["id"], work_blocked=True)
        [event] = await probe.events_for(ticket["id"], type_=EventType.TICKET_CREATED)
    assert event["specversion"] == "1.0"
    uuid.UUID(event["id"])
    assert event["source"] == "stopclock/ticket"
    assert event["subject"] == ticket["id"]
    assert event["sequence"] == 1
    assert event["correlationid"]
    assert abs(datetime.fromisoformat(event["time"]) - datetime.now(UTC)).total_seconds() < 60
    snapshot = event["data"]["ticket"]
    assert snapshot["number"] == ticket["number"]
    assert snapshot["work_blocked"] is True
    requester = snapshot["requester"]
    assert requester["email"] == person["email"]
    assert (requester["timezone"], requester["locale"]) == ("Europe/Paris", "fr")
    assert (requester["manager_id"], requester["manager_email"]) == (
        manager["id"],
        manager["email"],
    )


async def test_events_of_one_ticket_are_ordered_on_one_partition(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = await put_person(ticket_api, admin)
    async with KafkaProbe(stack.kafka, TICKETS_EVENTS) as probe:
        ticket = await open_ticket(ticket_api, admin, person["id"])
        url = f"/api/v1/tickets/{ticket['id']}"
        await ticket_api.post(url + "/transitions", json={"to": "in_progress"}, headers=admin)
        await ticket_api.patch(url, json={"urgency": "high"}, headers=admin)
        await ticket_api.post(url + "/comments", json={"body": "on it"}, headers=admin)
        records = await probe.wait_for(lambda m: m.key == ticket["id"].encode(), count=5)
    assert len({r.partition for r in records}) == 1
    sequences = [orjson.loads(r.value or b"")["sequence"] for r in records]
    assert sequences == sorted(sequences)
    types = [orjson.loads(r.value or b"")["type"] for r in records]
    assert EventType.TICKET_PRIORITY_CHANGED in types


def comment_command(ticket_id: str, body: str) -> bytes:
    return encode(
        new_envelope(
            EventType.COMMAND_COMMENT,
            source="stopclock/tests",
            subject=ticket_id,
            time=datetime.now(UTC),
            data={"ticket_id": ticket_id, "body": body, "visibility": "internal"},
        )
    )


async def comments_of(
    client: httpx.AsyncClient, headers: dict[str, str], ticket_id: str
) -> list[str]:
    response = await client.get(f"/api/v1/tickets/{ticket_id}/comments", headers=headers)
    return [c["body"] for c in response.json()["items"]]


async def wait_comments(
    client: httpx.AsyncClient, headers: dict[str, str], ticket_id: str, n: int
) -> list[str]:
    import asyncio

    for _ in range(100):
        found = await comments_of(client, headers, ticket_id)
        if len(found) >= n:
            return found
        await asyncio.sleep(0.1)
    return await comments_of(client, headers, ticket_id)


async def test_same_command_delivered_twice_is_applied_once(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    command = comment_command(ticket["id"], "applied once")
    await send_raw(stack.kafka, TICKETS_COMMANDS, ticket["id"], command)
    await send_raw(stack.kafka, TICKETS_COMMANDS, ticket["id"], command)
    # A later, different command proves both copies of the first were consumed.
    await send_raw(
        stack.kafka, TICKETS_COMMANDS, ticket["id"], comment_command(ticket["id"], "next")
    )
    found = await wait_comments(ticket_api, admin, ticket["id"], 2)
    assert sorted(found) == ["applied once", "next"]


async def test_malformed_command_goes_to_dlq_and_the_next_one_is_processed(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    garbage = b'{"this": "is not a cloudevent", "marker": "' + unique("m").encode() + b'"}'
    unknown_ticket = encode(
        new_envelope(
            EventType.COMMAND_REOPEN,
            source="stopclock/tests",
            subject="x",
            time=datetime.now(UTC),
            data={"ticket_id": str(uuid.uuid4())},
        )
    )
    async with KafkaProbe(stack.kafka, dlq(TICKETS_COMMANDS)) as parked:
        await send_raw(stack.kafka, TICKETS_COMMANDS, ticket["id"], garbage)
        await send_raw(stack.kafka, TICKETS_COMMANDS, ticket["id"], unknown_ticket)
        await send_raw(
            stack.kafka,
            TICKETS_COMMANDS,
            ticket["id"],
            comment_command(ticket["id"], "still alive"),
        )
        records = await parked.wait_for(lambda m: m.key == ticket["id"].encode(), count=2)
    assert await wait_comments(ticket_api, admin, ticket["id"], 1) == ["still alive"]
    dead = [orjson.loads(r.value or b"") for r in records]
    assert len(dead) == 2
    assert "specversion" in dead[0]["error"]
    assert dead[0]["value_text"] == garbage.decode()
    assert dead[0]["topic"] == TICKETS_COMMANDS
    assert dead[0]["consumer"] == "ticket-commands"
    assert "does not exist" in dead[1]["error"]


async def test_correlation_id_of_the_request_is_carried_by_its_events(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = await put_person(ticket_api, admin)
    cid = unique("corr")
    async with KafkaProbe(stack.kafka, TICKETS_EVENTS) as probe:
        response = await ticket_api.post(
            "/api/v1/tickets",
            json={
                "type": "service_request",
                "title": "New laptop",
                "description": "Mine is 7 years old.",
                "requester_id": person["id"],
                "impact": "low",
                "urgency": "low",
            },
            headers={**admin, "X-Correlation-ID": cid},
        )
        assert response.headers["x-correlation-id"] == cid
        [event] = await probe.events_for(response.json()["id"])
    assert event["correlationid"] == cid
