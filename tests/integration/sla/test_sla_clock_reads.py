"""Clocks read through the API while tickets move: pauses, pause reasons, re-targeting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sla_support import at, clock, clocks_of, policy_body, put_policy, wait_clocks

from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.stack import Stack, unique


def state_of(target: str, state: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: clock(body, target)["state"] == state


async def test_waiting_on_the_user_freezes_the_clock_and_moves_the_deadline_by_the_pause(
    ticket_api: httpx.AsyncClient, sla_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    service = unique("svc")
    await put_policy(sla_api, admin, policy_body(service, 40))
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"], service=service)
    before = clock(await clocks_of(sla_api, admin, ticket["id"]), "resolution")
    assert before["state"] == "running"
    await move(ticket_api, admin, ticket["id"], "in_progress")
    await move(ticket_api, admin, ticket["id"], "waiting_on_user", reason="info_requested")

    body = await wait_clocks(sla_api, admin, ticket["id"], state_of("resolution", "paused"))
    first = clock(body, "resolution")
    await asyncio.sleep(2)
    second = clock(await clocks_of(sla_api, admin, ticket["id"]), "resolution")
    assert second["state"] == "paused"
    assert second["remaining_seconds"] == first["remaining_seconds"]
    assert second["elapsed_seconds"] == first["elapsed_seconds"]
    assert second["paused_seconds"] > first["paused_seconds"]

    await asyncio.sleep(4)
    await move(ticket_api, admin, ticket["id"], "in_progress")
    body = await wait_clocks(sla_api, admin, ticket["id"], state_of("resolution", "running"))
    after = clock(body, "resolution")
    assert after["paused_seconds"] >= 5
    moved = (at(after["due_at"]) - at(before["due_at"])).total_seconds()
    assert moved == pytest.approx(after["paused_seconds"], abs=0.001)
    assert after["remaining_seconds"] <= first["remaining_seconds"]


async def test_user_validation_pauses_resolution_but_not_first_response(
    ticket_api: httpx.AsyncClient, sla_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    service = unique("svc")
    reasons = ["info_requested", "user_response"]
    body = policy_body(service, 1200)
    body["targets"]["first_response"] = {
        "seconds": 600,
        "calendar": "24x7",
        "pause_reasons": reasons,
    }
    policy = await put_policy(sla_api, admin, body)
    assert policy["targets"]["first_response"]["pause_reasons"] == reasons
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"], service=service)
    await clocks_of(sla_api, admin, ticket["id"])
    await move(ticket_api, admin, ticket["id"], "assigned")
    await move(ticket_api, admin, ticket["id"], "waiting_on_user", reason="user_validation")

    body = await wait_clocks(sla_api, admin, ticket["id"], state_of("resolution", "paused"))
    assert clock(body, "resolution")["state"] == "paused"
    assert clock(body, "first_response")["state"] == "running"
    assert body["policy"] == policy["name"]


async def test_p3_to_p1_moves_the_running_clock_to_the_p1_policy_and_closer_deadline(
    ticket_api: httpx.AsyncClient, sla_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    service = unique("svc")
    p3 = await put_policy(
        sla_api, admin, policy_body(service, 3600, match={"service": service, "priority": "P3"})
    )
    p1 = await put_policy(
        sla_api, admin, policy_body(service, 600, match={"service": service, "priority": "P1"})
    )
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(
        ticket_api, admin, person["id"], service=service, impact="medium", urgency="medium"
    )
    assert ticket["priority"] == "P3"
    body = await clocks_of(sla_api, admin, ticket["id"])
    assert body["policy"] == p3["name"]
    before = clock(body, "resolution")

    response = await ticket_api.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"impact": "high", "urgency": "high"}, headers=admin
    )
    assert response.json()["priority"] == "P1"
    body = await wait_clocks(sla_api, admin, ticket["id"], lambda b: b["policy"] == p1["name"])
    assert body["policy"] == p1["name"]
    after = clock(body, "resolution")
    assert after["started_at"] == before["started_at"]
    assert at(after["due_at"]) < at(before["due_at"])
    assert (at(after["due_at"]) - at(after["started_at"])).total_seconds() == pytest.approx(600)


async def test_a_requester_reads_the_clocks_of_their_own_tickets_only(
    ticket_api: httpx.AsyncClient, sla_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    await clocks_of(sla_api, admin, ticket["id"])
    url = f"/api/v1/sla/tickets/{ticket['id']}"

    own = await sla_api.get(url, headers=stack.auth(person["id"], "requester"))
    other = await sla_api.get(url, headers=stack.auth(unique("person"), "requester"))
    anonymous = await sla_api.get(url)
    unknown = await sla_api.get(f"/api/v1/sla/tickets/{unique('ticket')}", headers=admin)

    assert own.status_code == 200
    assert own.json()["ticket_id"] == ticket["id"]
    assert (other.status_code, anonymous.status_code, unknown.status_code) == (403, 401, 404)
    assert unknown.headers["content-type"] == "application/problem+json"
