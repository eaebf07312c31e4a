"""Helpers of the escalation integration tests: short policies, waiting on the API, events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from stopclock_shared.events.codec import encode
from stopclock_shared.events.contract import CONTRACT
from stopclock_shared.events.envelope import new_envelope
from stopclock_shared.events.types import EventType
from stopclock_shared.testing.stack import unique

Items = list[dict[str, Any]]


async def put_policy(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    reminders: list[int],
    grace: int,
    min_unresponsive: int = 2,
    desk_manager_email: str | None = None,
    **extra: Any,
) -> str:
    """A policy of its own for a fresh service name (so tests never share a policy)."""
    service = unique("esc-svc")
    body: dict[str, Any] = {
        "match": {"service": service},
        "order": 0,
        "reminders": reminders,
        "final_grace_seconds": grace,
        "calendar": "24x7",
        "manager_escalation": {
            "requires_work_blocked": True,
            "min_unresponsive_episodes": min_unresponsive,
            "window_days": 30,
        },
        **extra,
    }
    if desk_manager_email:
        body["desk_manager_email"] = desk_manager_email
    response = await client.put(
        f"/api/v1/escalation/policies/{service}", json=body, headers=headers
    )
    assert response.status_code in (200, 201), response.text
    return service


async def escalations(client: httpx.AsyncClient, headers: dict[str, str], ticket_id: str) -> Items:
    response = await client.get(
        "/api/v1/escalations", params={"ticket_id": ticket_id}, headers=headers
    )
    assert response.status_code == 200, response.text
    items: Items = response.json()["items"]
    return items


async def wait_escalations(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ticket_id: str,
    until: Callable[[Items], bool],
    timeout: float = 20.0,
) -> Items:
    """The ticket's escalations once ``until`` holds for them (or as they are at the timeout)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        items = await escalations(client, headers, ticket_id)
        if until(items) or loop.time() > deadline:
            return items
        await asyncio.sleep(0.25)


def kinds(items: Items) -> list[tuple[str, int]]:
    return [(i["kind"], i["level"]) for i in items]


async def wait_status(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ticket_id: str,
    status: str,
    timeout: float = 20.0,
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        response = await client.get(f"/api/v1/tickets/{ticket_id}", headers=headers)
        ticket: dict[str, Any] = response.json()
        if ticket.get("status") == status or loop.time() > deadline:
            return ticket
        await asyncio.sleep(0.25)


def event_bytes(type_: EventType, subject: str, data: dict[str, Any]) -> bytes:
    """A CloudEvents envelope as another service would publish it (its data must fit the
    contract: the escalation service refuses, and dead-letters, anything else)."""
    CONTRACT[type_].model.model_validate(data)
    return encode(
        new_envelope(
            type_, source="stopclock/tests", subject=subject, time=datetime.now(UTC), data=data
        )
    )
