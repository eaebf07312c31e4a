"""The ticket REST API against the running ticket service (real PostgreSQL and Kafka)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from stopclock_shared.pagination import encode_cursor
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.stack import Stack, unique

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


async def test_missing_or_bad_token_is_401_problem(ticket_api: httpx.AsyncClient) -> None:
    assert_problem(await ticket_api.get("/api/v1/tickets"), 401)
    bad = {"Authorization": "Bearer not-a-jwt"}
    assert_problem(await ticket_api.get("/api/v1/tickets", headers=bad), 401)


async def test_token_signed_with_another_secret_is_401(
    ticket_api: httpx.AsyncClient, stack: Stack
) -> None:
    from stopclock_shared.auth import make_token

    forged = make_token("another-secret-that-is-long-enough-for-hs256", "x", ["admin"])
    response = await ticket_api.get(
        "/api/v1/tickets", headers={"Authorization": f"Bearer {forged}"}
    )
    assert_problem(response, 401)


async def test_requester_cannot_write_people_403(
    ticket_api: httpx.AsyncClient, stack: Stack
) -> None:
    response = await ticket_api.put(
        "/api/v1/people/someone",
        json={"name": "S", "email": "s@example.com"},
        headers=stack.auth("someone", "requester"),
    )
    assert_problem(response, 403)


async def test_unknown_ticket_is_404(ticket_api: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await ticket_api.get(
        "/api/v1/tickets/00000000-0000-0000-0000-000000000000", headers=admin
    )
    assert_problem(response, 404)
    assert_problem(await ticket_api.get("/api/v1/tickets/not-an-id", headers=admin), 404)


async def test_invalid_body_is_422_with_field_errors(
    ticket_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await ticket_api.post(
        "/api/v1/tickets", json={"type": "bug", "title": ""}, headers=admin
    )
    body = assert_problem(response, 422)
    fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert {"type", "title", "requester_id", "impact", "urgency"} <= fields


async def test_unknown_requester_is_422(
    ticket_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await ticket_api.post(
        "/api/v1/tickets",
        json={
            "type": "incident",
            "title": "t",
            "description": "d",
            "requester_id": unique("ghost"),
            "impact": "low",
            "urgency": "low",
        },
        headers=admin,
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "requester_id"  # type: ignore[index]


async def test_created_ticket_has_number_and_matrix_priority(
    ticket_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    person = await put_person(ticket_api, admin)
    incident = await open_ticket(ticket_api, admin, person["id"], impact="high", urgency="high")
    request = await open_ticket(
        ticket_api, admin, person["id"], type="service_request", impact="low", urgency="medium"
    )
    assert incident["number"].startswith("INC")
    assert len(incident["number"]) >= 10
    assert request["number"].startswith("REQ")
    assert (incident["priority"], request["priority"]) == ("P1", "P4")
    assert incident["status"] == "new"
    assert incident["version"] == 1


async def test_invalid_transition_is_409_listing_allowed(
    ticket_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    response = await ticket_api.post(
        f"/api/v1/tickets/{ticket['id']}/transitions", json={"to": "closed"}, headers=admin
    )
    body = assert_problem(response, 409)
    assert set(body["allowed"]) == {"assigned", "in_progress", "cancelled"}  # type: ignore[call-overload]


async def test_waiting_needs_a_known_reason_422(
    ticket_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    await move(ticket_api, admin, ticket["id"], "in_progress")
    response = await ticket_api.post(
        f"/api/v1/tickets/{ticket['id']}/transitions",
        json={"to": "waiting_on_user", "reason": "lunch"},
        headers=admin,
    )
    assert_problem(response, 422)


async def test_requester_cannot_see_another_requesters_ticket(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    alice = await put_person(ticket_api, admin)
    mallory = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, stack.auth(alice["id"], "requester"), alice["id"])
    as_mallory = stack.auth(mallory["id"], "requester")
    assert_problem(await ticket_api.get(f"/api/v1/tickets/{ticket['id']}", headers=as_mallory), 403)
    listed = await ticket_api.get("/api/v1/tickets", headers=as_mallory)
    assert listed.status_code == 200
    assert ticket["id"] not in {t["id"] for t in listed.json()["items"]}
    assert_problem(
        await ticket_api.get(f"/api/v1/tickets?requester_id={alice['id']}", headers=as_mallory),
        403,
    )
    own = await ticket_api.get(
        f"/api/v1/tickets/{ticket['id']}", headers=stack.auth(alice["id"], "requester")
    )
    assert own.status_code == 200


async def test_requester_cannot_open_a_ticket_for_someone_else(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    alice = await put_person(ticket_api, admin)
    bob = await put_person(ticket_api, admin)
    response = await ticket_api.post(
        "/api/v1/tickets",
        json={
            "type": "incident",
            "title": "t",
            "description": "d",
            "requester_id": bob["id"],
            "impact": "low",
            "urgency": "low",
        },
        headers=stack.auth(alice["id"], "requester"),
    )
    assert_problem(response, 403)


async def test_same_idempotency_key_returns_the_first_ticket(
    ticket_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    person = await put_person(ticket_api, admin)
    body = {
        "type": "incident",
        "title": "Printer on fire",
        "description": "Literally.",
        "requester_id": person["id"],
        "impact": "high",
        "urgency": "high",
    }
    key = {"Idempotency-Key": unique("key"), **admin}
    first = await ticket_api.post("/api/v1/tickets", json=body, headers=key)
    again = await ticket_api.post("/api/v1/tickets", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    other_body = await ticket_api.post(
        "/api/v1/tickets", json={**body, "title": "Another"}, headers=key
    )
    assert_problem(other_body, 422)
    listed = await ticket_api.get(f"/api/v1/tickets?requester_id={person['id']}", headers=admin)
    assert len(listed.json()["items"]) == 1


async def test_requester_public_comment_ends_the_wait(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = await put_person(ticket_api, admin)
    me = stack.auth(person["id"], "requester")
    ticket = await open_ticket(ticket_api, me, person["id"])
    await move(ticket_api, admin, ticket["id"], "in_progress")
    waiting = await move(
        ticket_api,
        admin,
        ticket["id"],
        "waiting_on_user",
        reason="info_requested",
        note="Which client version?",
    )
    assert waiting["waiting_reason"] == "info_requested"
    answer = await ticket_api.post(
        f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "5.1"}, headers=me
    )
    assert answer.status_code == 201
    after = (await ticket_api.get(f"/api/v1/tickets/{ticket['id']}", headers=me)).json()
    assert (after["status"], after["waiting_reason"]) == ("in_progress", None)


async def test_requesters_never_see_internal_comments(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = await put_person(ticket_api, admin)
    me = stack.auth(person["id"], "requester")
    ticket = await open_ticket(ticket_api, me, person["id"])
    url = f"/api/v1/tickets/{ticket['id']}/comments"
    await ticket_api.post(url, json={"body": "note", "visibility": "internal"}, headers=admin)
    await ticket_api.post(url, json={"body": "hello", "visibility": "public"}, headers=admin)
    assert_problem(
        await ticket_api.post(url, json={"body": "x", "visibility": "internal"}, headers=me), 403
    )
    mine = (await ticket_api.get(url, headers=me)).json()["items"]
    desk = (await ticket_api.get(url, headers=admin)).json()["items"]
    assert [c["body"] for c in mine] == ["hello"]
    assert sorted(c["body"] for c in desk) == ["hello", "note"]


async def test_impact_change_recomputes_priority_and_history_records_everything(
    ticket_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"], impact="low", urgency="low")
    patched = await ticket_api.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"impact": "high", "urgency": "high"}, headers=admin
    )
    assert patched.status_code == 200
    assert (patched.json()["priority"], patched.json()["version"]) == ("P1", 2)
    await move(ticket_api, admin, ticket["id"], "in_progress")
    await move(ticket_api, admin, ticket["id"], "resolved", resolution="Restarted the gateway")
    history = (
        await ticket_api.get(f"/api/v1/tickets/{ticket['id']}/history", headers=admin)
    ).json()["items"]
    assert [h["action"] for h in history] == [
        "created",
        "updated",
        "status_changed",
        "status_changed",
    ]
    assert history[1]["changes"]["priority"] == ["P4", "P1"]
    assert all(h["actor_id"] and h["created_at"] for h in history)


async def test_list_is_paginated_with_a_cursor(
    ticket_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    person = await put_person(ticket_api, admin)
    made = [(await open_ticket(ticket_api, admin, person["id"]))["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        query = f"/api/v1/tickets?requester_id={person['id']}&limit=2"
        page = (
            await ticket_api.get(query + (f"&cursor={cursor}" if cursor else ""), headers=admin)
        ).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made
    assert_problem(await ticket_api.get("/api/v1/tickets?limit=500", headers=admin), 422)
    assert_problem(await ticket_api.get("/api/v1/tickets?cursor=%%%", headers=admin), 422)
    forged = encode_cursor(datetime.now(UTC), "not-a-ticket-id")
    assert_problem(await ticket_api.get(f"/api/v1/tickets?cursor={forged}", headers=admin), 422)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"])
async def test_operational_endpoints_answer(ticket_api: httpx.AsyncClient, path: str) -> None:
    response = await ticket_api.get(path)
    assert response.status_code == 200


async def test_unknown_target_status_is_422_not_500(
    ticket_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    response = await ticket_api.post(
        f"/api/v1/tickets/{ticket['id']}/transitions", json={"to": "teleported"}, headers=admin
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "to"  # type: ignore[index]


async def test_readiness_covers_database_kafka_and_the_consumer_group(
    ticket_api: httpx.AsyncClient,
) -> None:
    body = (await ticket_api.get("/readyz")).json()
    assert body["checks"] == {"database": "ok", "kafka": "ok", "consumers": "ok"}
