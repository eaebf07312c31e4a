"""Helpers of the sla integration tests: policies with a unique service, clock reads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import orjson
from aiokafka import ConsumerRecord

from stopclock_shared.testing.stack import Stack, unique

# Timers decide on event time (docs/sla-timing.md): a warning or breach is announced once
# the partition's facts are known up to its due time: the breach grace (0.5 s by default)
# plus a fetch round or two after the due time, plus room for a busy machine.
ANNOUNCED_WITHIN = 1.5


def policy_body(service: str, resolution: float, **extra: Any) -> dict[str, Any]:
    """A policy matching only tickets of `service` (so tests never collide), on 24x7.

    Its order wins over catch-all policies that other tests (API fuzzing) may have left on
    the shared stack with order 0."""
    body: dict[str, Any] = {
        "match": {"service": service},
        "order": -1_000_000,
        "warn_at": [],
        "targets": {"resolution": {"seconds": resolution, "calendar": "24x7"}},
    }
    body.update(extra)
    return body


async def put_policy(
    sla: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], name: str | None = None
) -> dict[str, Any]:
    name = name or unique("policy")
    response = await sla.put(f"/api/v1/sla/policies/{name}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def clocks_of(
    sla: httpx.AsyncClient, headers: dict[str, str], ticket_id: str, timeout: float = 30.0
) -> dict[str, Any]:
    """The ticket's clocks, waiting for the sla service to have seen the ticket."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        response = await sla.get(f"/api/v1/sla/tickets/{ticket_id}", headers=headers)
        if response.status_code == 200 or loop.time() > deadline:
            assert response.status_code == 200, response.text
            result: dict[str, Any] = response.json()
            return result
        await asyncio.sleep(0.1)


async def wait_clocks(
    sla: httpx.AsyncClient,
    headers: dict[str, str],
    ticket_id: str,
    ready: Callable[[dict[str, Any]], bool],
    timeout: float = 30.0,
) -> dict[str, Any]:
    """The ticket's clocks once `ready(body)` holds (e.g. the sla service saw a change)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        body = await clocks_of(sla, headers, ticket_id)
        if ready(body) or loop.time() > deadline:
            return body
        await asyncio.sleep(0.1)


def clock(body: dict[str, Any], target: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in body["clocks"] if c["target"] == target]
    assert len(found) == 1, body
    return found[0]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def envelope(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(record.value or b"{}")
    return result


def is_sla_event(
    ticket_id: str, kind: str | None = None
) -> Callable[[ConsumerRecord[bytes, bytes]], bool]:
    """A probe predicate: an `sla.events` record about `ticket_id` (of `kind`, if given)."""

    def match(record: ConsumerRecord[bytes, bytes]) -> bool:
        if record.key != ticket_id.encode():
            return False
        env = envelope(record)
        return kind is None or env.get("type") == f"stopclock.sla.{kind}.v1"

    return match


def is_ours(
    policy: str, kind: str, ticket_id: str | None = None
) -> Callable[[ConsumerRecord[bytes, bytes]], bool]:
    """A probe predicate: an `sla.events` record of `kind` emitted under `policy` (a private
    sla process's policy), about `ticket_id` if given."""

    def match(record: ConsumerRecord[bytes, bytes]) -> bool:
        env = envelope(record)
        return bool(
            env.get("type") == f"stopclock.sla.{kind}.v1"
            and env.get("data", {}).get("policy") == policy
            and (ticket_id is None or env.get("subject") == ticket_id)
        )

    return match


async def aftermath(
    stack: Stack, headers: dict[str, str], ticket_id: str
) -> tuple[list[str], list[str]]:
    """What the other services did about a ticket: (escalation kinds, mail kinds)."""
    async with httpx.AsyncClient(timeout=10) as http:
        escalations = await http.get(
            stack.url("escalation") + "/api/v1/escalations",
            params={"ticket_id": ticket_id},
            headers=headers,
        )
        mails = await http.get(
            stack.url("notification") + "/api/v1/notifications",
            params={"ticket_id": ticket_id},
            headers=headers,
        )
    assert escalations.status_code == 200, escalations.text
    assert mails.status_code == 200, mails.text
    return (
        [item["kind"] for item in escalations.json()["items"]],
        [item["kind"] for item in mails.json()["items"]],
    )
