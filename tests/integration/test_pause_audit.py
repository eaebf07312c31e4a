"""The pause audit on the real stack (issue 13): a fair pause (question asked, the requester
answers) and a parked one (no question, the agent resumes) told apart per agent and by reason,
with the right paused share; only managers and admins may read it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.stack import Stack, unique

REPORT = "/api/v1/sla/reports/pauses"
PAUSE = 1.5  # seconds each wait lasts at least


@pytest.fixture
async def sla_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("sla"), timeout=30) as client:
        yield client


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def seconds(start: str, end: str) -> float:
    return (at(end) - at(start)).total_seconds()


async def put_policy(sla: httpx.AsyncClient, headers: dict[str, str], service: str) -> None:
    """A 24x7 policy for `service` only; its order wins over catch-alls other tests leave."""
    body = {
        "match": {"service": service},
        "order": -1_000_000,
        "warn_at": [],
        "targets": {
            "first_response": {"seconds": 600, "calendar": "24x7"},
            "resolution": {"seconds": 3600, "calendar": "24x7"},
        },
    }
    response = await sla.put(f"/api/v1/sla/policies/{unique('audit')}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text


async def resolution_met(sla: httpx.AsyncClient, headers: dict[str, str], ticket_id: str) -> None:
    """Wait until the sla service has applied the resolution of the ticket."""
    deadline = time.monotonic() + 30
    while True:
        response = await sla.get(f"/api/v1/sla/tickets/{ticket_id}", headers=headers)
        if response.status_code == 200:
            states = {c["target"]: c["state"] for c in response.json()["clocks"]}
            if states.get("resolution") == "met":
                return
        assert time.monotonic() < deadline, response.text
        await asyncio.sleep(0.1)


async def test_a_fair_pause_and_a_parked_one_are_told_apart_per_agent_and_by_reason(
    stack: Stack,
    ticket_api: httpx.AsyncClient,
    sla_api: httpx.AsyncClient,
    admin: dict[str, str],
) -> None:
    service = unique("audit-svc")
    await put_policy(sla_api, admin, service)
    # Sorted ids, so by_agent (sorted by agent_id) lists the fair agent first.
    tag = unique("agent")
    fair_agent, parking_agent = f"{tag}-a", f"{tag}-b"
    fair, parking = stack.auth(fair_agent, "agent"), stack.auth(parking_agent, "agent")
    requester = await put_person(ticket_api, admin)
    as_requester = stack.auth(requester["id"], "requester")
    window_start = datetime.now(UTC) - timedelta(minutes=1)

    # Ticket A: the agent asks a question in the note; the requester answers by a comment.
    a = await open_ticket(ticket_api, admin, requester["id"], service=service)
    await move(ticket_api, fair, a["id"], "in_progress")
    wall = time.monotonic()
    waiting_a = await move(
        ticket_api,
        fair,
        a["id"],
        "waiting_on_user",
        reason="info_requested",
        note="Which VPN client version do you run?",
    )
    await asyncio.sleep(PAUSE)
    answer = await ticket_api.post(
        f"/api/v1/tickets/{a['id']}/comments",
        json={"body": "Version 5.2", "visibility": "public"},
        headers=as_requester,
    )
    assert answer.status_code == 201, answer.text
    wall_a = time.monotonic() - wall
    resolved_a = await move(ticket_api, fair, a["id"], "resolved", resolution="Client updated")

    # Ticket B: the agent parks it without a word, then takes it back.
    b = await open_ticket(ticket_api, admin, requester["id"], service=service)
    await move(ticket_api, parking, b["id"], "in_progress")
    wall = time.monotonic()
    waiting_b = await move(ticket_api, parking, b["id"], "waiting_on_user", reason="user_response")
    await asyncio.sleep(PAUSE)
    resumed_b = await move(ticket_api, parking, b["id"], "in_progress")
    wall_b = time.monotonic() - wall
    resolved_b = await move(ticket_api, parking, b["id"], "resolved", resolution="Done")

    for ticket in (a, b):
        await resolution_met(sla_api, admin, ticket["id"])
    window = {
        "from": window_start.isoformat(),
        "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
        "service": service,
    }
    manager = stack.auth(unique("manager"), "manager")
    response = await sla_api.get(REPORT, params=window, headers=manager)
    assert response.status_code == 200, response.text
    report = response.json()

    # The ticket service's own times (the events' times) give the exact figures.
    paused_a = seconds(waiting_a["updated_at"], answer.json()["created_at"])
    paused_b = seconds(waiting_b["updated_at"], resumed_b["updated_at"])
    business = seconds(a["created_at"], resolved_a["resolved_at"]) + seconds(
        b["created_at"], resolved_b["resolved_at"]
    )
    assert PAUSE <= paused_a <= wall_a
    assert PAUSE <= paused_b <= wall_b
    assert report["clocks"] == 2
    assert report["business_seconds"] == pytest.approx(business, abs=1e-3)
    assert report["paused_seconds"] == pytest.approx(paused_a + paused_b, abs=1e-3)
    assert report["paused_share"] == pytest.approx(
        report["paused_seconds"] / report["business_seconds"]
    )
    assert 0 < report["paused_share"] < 1
    assert report["by_reason"] == {
        "info_requested": pytest.approx(paused_a, abs=1e-3),
        "user_response": pytest.approx(paused_b, abs=1e-3),
    }
    assert report["by_agent"] == [
        {
            "agent_id": fair_agent,
            "pauses": 1,
            "without_question": 0,
            "ended_by_agent": 0,
            "median_pause_seconds": pytest.approx(paused_a, abs=1e-3),
        },
        {
            "agent_id": parking_agent,
            "pauses": 1,
            "without_question": 1,
            "ended_by_agent": 1,
            "median_pause_seconds": pytest.approx(paused_b, abs=1e-3),
        },
    ]

    # Another service's window holds none of these clocks.
    other = await sla_api.get(
        REPORT, params={**window, "service": unique("nothing")}, headers=admin
    )
    assert other.status_code == 200, other.text
    assert (other.json()["clocks"], other.json()["by_agent"]) == (0, [])


@pytest.mark.parametrize("roles", [("requester",), ("agent",), ("service",)])
async def test_only_managers_and_admins_read_the_pause_audit(
    stack: Stack, sla_api: httpx.AsyncClient, roles: tuple[str, ...]
) -> None:
    response = await sla_api.get(REPORT, headers=stack.auth(unique("someone"), *roles))
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await sla_api.get(REPORT)).status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-06-01T00:00:00Z&to=2026-05-01T00:00:00Z",  # inverted
        "from=2026-06-01T00:00:00Z&to=2026-06-01T00:00:00Z",  # empty
        "from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",  # wider than 366 days
        "from=2026-06-01T00:00:00",  # no offset
        "from=yesterday",
        "to=0001-01-01T00:00:00%2B14:00",
        "from=0001-01-01T00:00:00%2B14:00&to=0001-01-02T00:00:00%2B14:00",
        "to=9999-12-31T23:59:59-14:00",
        "service=" + "s" * 201,
    ],
)
async def test_a_bad_window_is_a_422_problem(
    stack: Stack, sla_api: httpx.AsyncClient, query: str
) -> None:
    response = await sla_api.get(f"{REPORT}?{query}", headers=stack.auth("boss", "manager"))
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == 422
    assert body["errors"], body
