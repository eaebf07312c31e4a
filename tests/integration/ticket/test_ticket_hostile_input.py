"""Hostile and sloppy input to the ticket API is a clear 4xx problem, never a 500 (issue 12):
nulls where a value is required, NUL characters, lists where one address belongs, header
injection, booleans that are not booleans, zones that are folders, huge bodies and numbers."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from stopclock_shared.testing.factories import open_ticket, put_person
from stopclock_shared.testing.stack import Stack, unique

PROBLEM = "application/problem+json"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


@pytest.fixture
def admin(stack: Stack) -> dict[str, str]:
    return stack.auth(unique("admin"), "admin", "agent")


@pytest.mark.parametrize(
    "patch",
    [
        {"title": None},
        {"description": None},
        {"impact": None},
        {"urgency": None},
        {"work_blocked": None},
        {"work_blocked": 0},
        {"work_blocked": "yes"},
        {"title": "a\u0000b"},
        {"impact": ["high"]},
        {"title": "x" * 301},
    ],
)
async def test_a_patch_that_cannot_apply_is_422_and_changes_nothing(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], patch: dict[str, Any]
) -> None:
    person = await put_person(ticket_api, admin, unique("hostile"))
    ticket = await open_ticket(ticket_api, admin, person["id"])
    response = await ticket_api.patch(f"/api/v1/tickets/{ticket['id']}", json=patch, headers=admin)
    problem(response, 422)
    after = (await ticket_api.get(f"/api/v1/tickets/{ticket['id']}", headers=admin)).json()
    assert after["version"] == ticket["version"]


async def test_null_clears_what_may_be_empty(
    ticket_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    person = await put_person(ticket_api, admin, unique("hostile"))
    ticket = await open_ticket(ticket_api, admin, person["id"], category="network")
    response = await ticket_api.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"category": None}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["category"] is None


@pytest.mark.parametrize(
    "fields",
    [
        {"email": "Alice <alice@example.com>"},
        {"email": "alice@example.com, mallory@example.com"},
        {"email": "undisclosed-recipients:;"},
        {"email": "alice@example.com\r\nBcc: mallory@example.com"},
        {"email": ["alice@example.com"]},
        {"timezone": "Europe"},
        {"timezone": "x" * 5000},
        {"locale": "de"},
        {"vip": "yes"},
        {"difficult": 1},
        {"name": "Ann\u0000"},
    ],
)
async def test_a_person_that_cannot_be_mailed_safely_is_422(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], fields: dict[str, Any]
) -> None:
    body = {"name": "Ann Example", "email": "ann@example.com", **fields}
    response = await ticket_api.put(f"/api/v1/people/{unique('p')}", json=body, headers=admin)
    problem(response, 422)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/people/" + "p" * 201,
        "/api/v1/people/a%00b",
        "/api/v1/tickets?status=new%00",
        "/api/v1/tickets?limit=99999999999999999999999",
    ],
)
async def test_bad_paths_and_queries_are_422(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], url: str
) -> None:
    problem(await ticket_api.get(url, headers=admin), 422)


async def test_a_body_over_the_limit_is_413_before_parsing(
    ticket_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    huge = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await ticket_api.put(
        f"/api/v1/people/{unique('p')}",
        content=huge,
        headers={**admin, "content-type": "application/json"},
    )
    problem(response, 413)


async def test_a_body_that_is_not_json_is_a_4xx_problem(
    ticket_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await ticket_api.post(
        "/api/v1/tickets",
        content=b"\xff\xfe{",
        headers={**admin, "content-type": "application/json"},
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith(PROBLEM)


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "x", "roles": ["admin"]},  # never expires
        {"sub": "x", "roles": ["admin"], "exp": int(time.time()) + 10 * 365 * 86400},
        {"sub": "x", "roles": "admin", "exp": int(time.time()) + 60},
        {"sub": "x", "roles": [["admin"]], "exp": int(time.time()) + 60},
    ],
)
async def test_tokens_that_are_not_what_we_issue_are_401(
    ticket_api: httpx.AsyncClient, stack: Stack, claims: dict[str, Any]
) -> None:
    token = jwt.encode(claims, stack.jwt_secret, algorithm="HS256")
    response = await ticket_api.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
    problem(response, 401)


async def test_an_undeclared_method_is_405_with_allow(ticket_api: httpx.AsyncClient) -> None:
    response = await ticket_api.request("TRACE", "/healthz")
    problem(response, 405)
    assert response.headers["allow"] == "GET"
