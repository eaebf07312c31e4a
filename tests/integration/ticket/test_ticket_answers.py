"""Answers that reach the ticket service as commands (mail gateway, answer pages), sent on the
real broker and checked through the REST API: relayed comments with their author and channel,
the requester's answer ending a wait, tickets opened by mail, confirmations, person events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import orjson

from stopclock_shared.events.codec import encode
from stopclock_shared.events.envelope import new_envelope
from stopclock_shared.events.topics import PEOPLE_EVENTS, TICKETS_COMMANDS, TICKETS_EVENTS, dlq
from stopclock_shared.events.types import EventType
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe, send_raw
from stopclock_shared.testing.stack import Stack, unique

SOURCE = "stopclock/tests"
Json = dict[str, Any]


async def send_command(stack: Stack, type_: str, key: str, data: Json) -> None:
    envelope = new_envelope(type_, source=SOURCE, subject=key, time=datetime.now(UTC), data=data)
    await send_raw(stack.kafka, TICKETS_COMMANDS, key, encode(envelope))


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> Any:
    """The first truthy result of ``check``; fails the test at the timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert loop.time() < deadline, "timed out waiting for the stack"
        await asyncio.sleep(0.1)


async def get_ticket(api: httpx.AsyncClient, headers: dict[str, str], ticket_id: str) -> Json:
    response = await api.get(f"/api/v1/tickets/{ticket_id}", headers=headers)
    assert response.status_code == 200, response.text
    ticket: Json = response.json()
    return ticket


async def comments(api: httpx.AsyncClient, headers: dict[str, str], ticket_id: str) -> list[Json]:
    response = await api.get(f"/api/v1/tickets/{ticket_id}/comments", headers=headers)
    assert response.status_code == 200, response.text
    items: list[Json] = response.json()["items"]
    return items


async def history(api: httpx.AsyncClient, headers: dict[str, str], ticket_id: str) -> list[Json]:
    response = await api.get(f"/api/v1/tickets/{ticket_id}/history", headers=headers)
    assert response.status_code == 200, response.text
    items: list[Json] = response.json()["items"]
    return items


async def comment_with(
    api: httpx.AsyncClient, headers: dict[str, str], ticket_id: str, body: str
) -> Json:
    async def found() -> Json | None:
        response = await api.get(f"/api/v1/tickets/{ticket_id}/comments", headers=headers)
        if response.status_code == 404:
            return None  # a ticket opened by a command may not be there yet
        assert response.status_code == 200, response.text
        return next((c for c in response.json()["items"] if c["body"] == body), None)

    comment: Json = await until(found)
    return comment


async def waiting_ticket(api: httpx.AsyncClient, admin: dict[str, str]) -> tuple[Json, Json]:
    """A requester and their ticket waiting on them (an agent asked a question)."""
    person = await put_person(api, admin)
    ticket = await open_ticket(api, admin, person["id"])
    await move(api, admin, ticket["id"], "in_progress")
    waiting = await move(
        api, admin, ticket["id"], "waiting_on_user", reason="info_requested", note="Which VPN?"
    )
    return person, waiting


def at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# -- waiting_since -----------------------------------------------------------------------------


async def test_waiting_since_is_set_on_entering_the_wait_and_cleared_on_leaving(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    assert ticket["waiting_since"] is None
    await move(ticket_api, admin, ticket["id"], "in_progress")
    async with KafkaProbe(stack.kafka, TICKETS_EVENTS) as probe:
        first = await move(
            ticket_api, admin, ticket["id"], "waiting_on_user", reason="user_validation"
        )
        [event] = await probe.events_for(ticket["id"], type_=EventType.TICKET_STATUS_CHANGED)
    assert first["waiting_since"] is not None
    assert at(first["waiting_since"]) == at(first["updated_at"])  # the transition's time
    # The snapshot carries the very instant (answer links name the wait by it).
    assert at(event["data"]["ticket"]["waiting_since"]) == at(first["waiting_since"])

    back = await move(ticket_api, admin, ticket["id"], "in_progress")
    assert back["waiting_since"] is None
    again = await move(ticket_api, admin, ticket["id"], "waiting_on_user", reason="user_response")
    assert at(again["waiting_since"]) > at(first["waiting_since"])  # type: ignore[operator]


# -- relayed comments --------------------------------------------------------------------------


async def test_the_requesters_mail_comment_ends_the_wait(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person, ticket = await waiting_ticket(ticket_api, admin)
    body = unique("It is the corporate VPN")
    async with KafkaProbe(stack.kafka, TICKETS_EVENTS) as probe:
        await send_command(
            stack,
            EventType.COMMAND_COMMENT,
            ticket["id"],
            {
                "ticket_id": ticket["id"],
                "body": body,
                "visibility": "public",
                "author_id": person["id"],
                "channel": "email",
            },
        )
        comment = await comment_with(ticket_api, admin, ticket["id"], body)
        [commented] = await probe.events_for(ticket["id"], type_=EventType.TICKET_COMMENTED)
        [answered] = await probe.events_for(ticket["id"], type_=EventType.TICKET_STATUS_CHANGED)
    assert (comment["author_id"], comment["channel"], comment["visibility"]) == (
        person["id"],
        "email",
        "public",
    )
    now = await get_ticket(ticket_api, admin, ticket["id"])
    assert (now["status"], now["waiting_reason"], now["waiting_since"]) == (
        "in_progress",
        None,
        None,
    )
    data = commented["data"]["comment"]
    assert (data["author_id"], data["author_is_requester"], data["channel"]) == (
        person["id"],
        True,
        "email",
    )
    assert data["note_kind"] is None
    assert (answered["data"]["reason"], answered["data"]["actor_id"]) == (
        "requester_answered",
        person["id"],
    )
    assert answered["data"]["actor_roles"] == ["requester"]


async def test_a_public_comment_by_someone_else_never_counts_as_the_answer(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    _, ticket = await waiting_ticket(ticket_api, admin)
    colleague = await put_person(ticket_api, admin)
    body = unique("I have the same problem")
    await send_command(
        stack,
        EventType.COMMAND_COMMENT,
        ticket["id"],
        {
            "ticket_id": ticket["id"],
            "body": body,
            "visibility": "public",
            "author_id": colleague["id"],
            "channel": "email",
        },
    )
    comment = await comment_with(ticket_api, admin, ticket["id"], body)
    assert (comment["author_id"], comment["channel"]) == (colleague["id"], "email")
    after = await get_ticket(ticket_api, admin, ticket["id"])
    assert (after["status"], after["waiting_since"]) == ("waiting_on_user", ticket["waiting_since"])


async def test_a_gateway_note_is_by_the_sending_service_and_keeps_its_kind(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person, ticket = await waiting_ticket(ticket_api, admin)
    body = unique("Automatic reply: out of office until Monday")
    async with KafkaProbe(stack.kafka, TICKETS_EVENTS) as probe:
        await send_command(
            stack,
            EventType.COMMAND_COMMENT,
            ticket["id"],
            {
                "ticket_id": ticket["id"],
                "body": body,
                "visibility": "internal",
                "channel": "email",
                "note_kind": "auto_reply",
            },
        )
        comment = await comment_with(ticket_api, admin, ticket["id"], body)
        [commented] = await probe.events_for(ticket["id"], type_=EventType.TICKET_COMMENTED)
    assert (comment["author_id"], comment["channel"], comment["note_kind"]) == (
        f"system:{SOURCE}",
        "email",
        "auto_reply",
    )
    assert (commented["data"]["comment"]["note_kind"], commented["data"]["comment"]["channel"]) == (
        "auto_reply",
        "email",
    )
    assert (await get_ticket(ticket_api, admin, ticket["id"]))["status"] == "waiting_on_user"
    # The requester sees public comments only: the note stays with the desk.
    mine = await comments(ticket_api, stack.auth(person["id"], "requester"), ticket["id"])
    assert body not in [c["body"] for c in mine]


async def test_an_api_comment_shows_its_author_and_the_api_channel(
    ticket_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    response = await ticket_api.post(
        f"/api/v1/tickets/{ticket['id']}/comments",
        json={"body": "Looking into it"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    comment = response.json()
    assert comment["channel"] == "api"
    assert comment["author_id"] == admin_sub(admin)
    assert comment["note_kind"] is None


def admin_sub(headers: dict[str, str]) -> str:
    token = headers["Authorization"].split(" ", 1)[1]
    sub: str = jwt.decode(token, options={"verify_signature": False})["sub"]
    return sub


async def test_the_requesters_mail_reopens_a_ticket_resolved_for_lack_of_response(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person, ticket = await waiting_ticket(ticket_api, admin)
    await send_command(
        stack,
        EventType.COMMAND_RESOLVE,
        ticket["id"],
        {"ticket_id": ticket["id"], "resolution": "No answer", "reason": "no_response"},
    )

    async def resolved() -> bool:
        return bool((await get_ticket(ticket_api, admin, ticket["id"]))["status"] == "resolved")

    await until(resolved)
    body = unique("Sorry, I was away")
    await send_command(
        stack,
        EventType.COMMAND_COMMENT,
        ticket["id"],
        {
            "ticket_id": ticket["id"],
            "body": body,
            "visibility": "public",
            "author_id": person["id"],
            "channel": "email",
        },
    )
    await comment_with(ticket_api, admin, ticket["id"], body)
    reopened = await get_ticket(ticket_api, admin, ticket["id"])
    assert (reopened["status"], reopened["resolution"]) == ("in_progress", None)


async def test_a_comment_for_an_unknown_ticket_is_dead_lettered_and_the_next_one_applied(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    ghost = str(uuid.uuid4())
    body = unique("still alive")
    async with KafkaProbe(stack.kafka, dlq(TICKETS_COMMANDS)) as parked:
        await send_command(
            stack,
            EventType.COMMAND_COMMENT,
            ghost,
            {"ticket_id": ghost, "body": "lost", "author_id": person["id"], "channel": "email"},
        )
        await send_command(
            stack,
            EventType.COMMAND_COMMENT,
            ticket["id"],
            {"ticket_id": ticket["id"], "body": body, "channel": "email"},
        )
        [record] = await parked.wait_for(lambda m: m.key == ghost.encode())
    await comment_with(ticket_api, admin, ticket["id"], body)
    dead = orjson.loads(record.value or b"")
    assert dead["error"] == f"LookupError: ticket {ghost} does not exist"
    assert dead["event_type"] == EventType.COMMAND_COMMENT


# -- tickets opened by mail --------------------------------------------------------------------


def open_command(ticket_id: str, requester_id: str, message_id: str) -> Json:
    return {
        "ticket_id": ticket_id,
        "requester_id": requester_id,
        "title": "Printer on floor 3 jams",
        "description": "Every second page since Monday.",
        "type": "incident",
        "impact": "high",
        "urgency": "medium",
        "channel": "email",
        "source_message_id": message_id,
    }


async def test_a_ticket_opened_by_mail_is_opened_once_whatever_the_deliveries(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = await put_person(ticket_api, admin)
    ticket_id = str(uuid.uuid4())
    message_id = f"<{unique('mail')}@example.com>"
    data = open_command(ticket_id, person["id"], message_id)
    same = encode(
        new_envelope(
            EventType.COMMAND_OPEN,
            source=SOURCE,
            subject=ticket_id,
            time=datetime.now(UTC),
            data=data,
        )
    )
    async with KafkaProbe(stack.kafka, TICKETS_EVENTS) as probe:
        await send_raw(stack.kafka, TICKETS_COMMANDS, ticket_id, same)
        await send_raw(stack.kafka, TICKETS_COMMANDS, ticket_id, same)  # redelivered
        await send_command(stack, EventType.COMMAND_OPEN, ticket_id, data)  # re-sent: new id
        # A later command on the same partition proves the three were consumed before it.
        marker = unique("marker")
        await send_command(
            stack,
            EventType.COMMAND_COMMENT,
            ticket_id,
            {"ticket_id": ticket_id, "body": marker, "channel": "email"},
        )
        await comment_with(ticket_api, admin, ticket_id, marker)
        created = await probe.events_for(
            ticket_id, count=2, timeout=3, type_=EventType.TICKET_CREATED
        )
    assert len(created) == 1
    assert (created[0]["data"]["channel"], created[0]["data"]["source_message_id"]) == (
        "email",
        message_id,
    )
    ticket = await get_ticket(ticket_api, admin, ticket_id)
    assert (ticket["requester_id"], ticket["type"], ticket["status"]) == (
        person["id"],
        "incident",
        "new",
    )
    assert (ticket["impact"], ticket["urgency"], ticket["priority"]) == ("high", "medium", "P2")
    assert ticket["number"].startswith("INC")
    listed = await ticket_api.get(
        "/api/v1/tickets", params={"requester_id": person["id"]}, headers=admin
    )
    assert [t["id"] for t in listed.json()["items"]] == [ticket_id]
    [opened] = [h for h in await history(ticket_api, admin, ticket_id) if h["action"] == "created"]
    assert opened["actor_id"] == person["id"]
    assert (opened["changes"]["channel"], opened["changes"]["source_message_id"]) == (
        "email",
        message_id,
    )
    assert opened["changes"]["via"] == SOURCE


async def test_a_mail_ticket_for_an_unknown_requester_is_dead_lettered(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    ticket_id = str(uuid.uuid4())
    stranger = unique("stranger")
    async with KafkaProbe(stack.kafka, dlq(TICKETS_COMMANDS)) as parked:
        await send_command(
            stack,
            EventType.COMMAND_OPEN,
            ticket_id,
            open_command(ticket_id, stranger, f"<{unique('m')}@example.com>"),
        )
        [record] = await parked.wait_for(lambda m: m.key == ticket_id.encode())
    dead = orjson.loads(record.value or b"")
    assert dead["error"].startswith(f"UnknownRequester: Unknown person {stranger!r}")
    response = await ticket_api.get(f"/api/v1/tickets/{ticket_id}", headers=admin)
    assert response.status_code == 404


async def test_an_open_command_reusing_another_requesters_ticket_id_is_dead_lettered(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    owner, intruder = await put_person(ticket_api, admin), await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, owner["id"])
    async with KafkaProbe(stack.kafka, dlq(TICKETS_COMMANDS)) as parked:
        await send_command(
            stack,
            EventType.COMMAND_OPEN,
            ticket["id"],
            open_command(ticket["id"], intruder["id"], f"<{unique('m')}@example.com>"),
        )
        [record] = await parked.wait_for(lambda m: m.key == ticket["id"].encode())
    assert "already exists for requester" in orjson.loads(record.value or b"")["error"]
    kept = await get_ticket(ticket_api, admin, ticket["id"])
    assert (kept["requester_id"], kept["title"], kept["version"]) == (
        owner["id"],
        ticket["title"],
        ticket["version"],
    )


async def test_a_mail_ticket_is_fitted_into_the_api_limits(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = await put_person(ticket_api, admin)
    ticket_id = str(uuid.uuid4())
    data = open_command(ticket_id, person["id"], f"<{unique('m')}@example.com>")
    await send_command(
        stack, EventType.COMMAND_OPEN, ticket_id, {**data, "title": "  ", "type": "service_request"}
    )

    async def opened() -> Json | None:
        response = await ticket_api.get(f"/api/v1/tickets/{ticket_id}", headers=admin)
        return response.json() if response.status_code == 200 else None

    ticket = await until(opened)
    assert (ticket["title"], ticket["type"]) == ("(no subject)", "service_request")
    assert ticket["number"].startswith("REQ")


# -- confirmation by the requester -------------------------------------------------------------


async def test_the_requesters_confirmation_resolves_a_waiting_ticket(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person, ticket = await waiting_ticket(ticket_api, admin)
    async with KafkaProbe(stack.kafka, TICKETS_EVENTS) as probe:
        await send_command(
            stack,
            EventType.COMMAND_RESOLVE,
            ticket["id"],
            {
                "ticket_id": ticket["id"],
                "resolution": "Confirmed by the requester: it works",
                "reason": "confirmed_by_requester",
            },
        )
        [event] = await probe.events_for(ticket["id"], type_=EventType.TICKET_STATUS_CHANGED)
    resolved = await get_ticket(ticket_api, admin, ticket["id"])
    assert (resolved["status"], resolved["resolution"], resolved["waiting_since"]) == (
        "resolved",
        "Confirmed by the requester: it works",
        None,
    )
    last = (await history(ticket_api, admin, ticket["id"]))[-1]
    assert (last["action"], last["actor_id"], last["changes"]["on_behalf_of"]) == (
        "status_changed",
        "system",
        person["id"],
    )
    assert last["changes"]["reason"] == "confirmed_by_requester"
    data = event["data"]
    assert (data["from_status"], data["to_status"], data["reason"]) == (
        "waiting_on_user",
        "resolved",
        "confirmed_by_requester",
    )
    # The decision was the requester's: consumers see it as their answer.
    assert (data["actor_id"], data["resolution_reason"]) == (person["id"], "confirmed_by_requester")


async def test_a_confirmation_resolves_in_progress_and_leaves_a_new_ticket_alone(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = await put_person(ticket_api, admin)
    working = await open_ticket(ticket_api, admin, person["id"])
    await move(ticket_api, admin, working["id"], "in_progress")
    fresh = await open_ticket(ticket_api, admin, person["id"])
    for ticket in (fresh, working):
        await send_command(
            stack,
            EventType.COMMAND_RESOLVE,
            ticket["id"],
            {
                "ticket_id": ticket["id"],
                "resolution": "It works",
                "reason": "confirmed_by_requester",
            },
        )

    async def resolved() -> bool:
        return bool((await get_ticket(ticket_api, admin, working["id"]))["status"] == "resolved")

    await until(resolved)

    async def ignored() -> list[Json]:
        return [
            h
            for h in await history(ticket_api, admin, fresh["id"])
            if h["action"] == "command_ignored"
        ]

    [note] = await until(ignored)
    assert "new" in note["changes"]["why"]
    assert (await get_ticket(ticket_api, admin, fresh["id"]))["status"] == "new"


# -- people.events -----------------------------------------------------------------------------


async def test_putting_a_person_emits_their_snapshot_on_people_events(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    manager = await put_person(ticket_api, admin, name="Maria Manager")
    person_id = unique("person")
    async with KafkaProbe(stack.kafka, PEOPLE_EVENTS) as probe:
        await put_person(
            ticket_api, admin, person_id, manager_id=manager["id"], locale="fr", vip=True
        )
        await put_person(ticket_api, admin, person_id, name="Renamed Person")
        records = await probe.wait_for(lambda m: m.key == person_id.encode(), count=2)
    assert len({r.partition for r in records}) == 1
    first, second = (orjson.loads(r.value or b"") for r in records)
    assert (first["type"], first["subject"], first["source"]) == (
        EventType.PERSON_UPDATED,
        person_id,
        "stopclock/ticket",
    )
    person = first["data"]["person"]
    assert (person["id"], person["email"], person["locale"], person["vip"]) == (
        person_id,
        f"{person_id}@example.com",
        "fr",
        True,
    )
    assert (person["manager_id"], person["manager_email"], person["manager_name"]) == (
        manager["id"],
        manager["email"],
        "Maria Manager",
    )
    renamed = second["data"]["person"]
    assert (renamed["name"], renamed["manager_id"], renamed["manager_email"]) == (
        "Renamed Person",
        None,
        None,
    )
