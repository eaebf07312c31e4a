"""Helpers of the answer-page tests: a ticket waiting on its requester and its answer link."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from datetime import datetime
from typing import Any

import httpx
from survey_support import form_token

from stopclock_shared.links import answer_token, link_key
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.stack import Stack


def stack_link_key(stack: Stack) -> bytes:
    """The key the services sign answer links with (``STOPCLOCK_LINK_SECRET``, else the JWT
    secret, as ``Settings.link_key``)."""
    return link_key(os.environ.get("STOPCLOCK_LINK_SECRET") or stack.jwt_secret)


def token_for(stack: Stack, ticket: dict[str, Any]) -> str:
    """The answer token of the ticket's current wait, from the ticket API's ``waiting_since``."""
    since = ticket["waiting_since"]
    assert since, f"ticket {ticket['number']} does not wait: {ticket['status']}"
    return answer_token(
        stack_link_key(stack), uuid.UUID(ticket["id"]), datetime.fromisoformat(since)
    )


async def waiting_ticket(
    ticket_api: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    reason: str = "user_validation",
    note: str | None = "Please restart the VPN client and tell us if it holds.",
    person: dict[str, Any] | None = None,
    **ticket_fields: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A requester and their ticket, now waiting on them for ``reason`` with ``note``."""
    person = person or await put_person(ticket_api, headers)
    ticket = await open_ticket(ticket_api, headers, person["id"], **ticket_fields)
    await move(ticket_api, headers, ticket["id"], "in_progress")
    fields = {"reason": reason} | ({"note": note} if note is not None else {})
    waiting = await move(ticket_api, headers, ticket["id"], "waiting_on_user", **fields)
    return person, waiting


async def open_page(client: httpx.AsyncClient, path: str, timeout: float = 15.0) -> httpx.Response:
    """``GET`` the page, waiting while the survey service has not seen the wait yet (404)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        page = await client.get(path)
        if page.status_code != 404 or loop.time() > deadline:
            if page.status_code != 200:  # say what the page said, for the failing assertion
                print(f"GET {path} -> {page.status_code}: {_main_of(page.text)}")
            return page
        await asyncio.sleep(0.2)


async def ticket_of(
    ticket_api: httpx.AsyncClient, headers: dict[str, str], ticket_id: str
) -> dict[str, Any]:
    response = await ticket_api.get(f"/api/v1/tickets/{ticket_id}", headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def until_status(
    ticket_api: httpx.AsyncClient,
    headers: dict[str, str],
    ticket_id: str,
    status: str,
    timeout: float = 20.0,
) -> dict[str, Any]:
    """The ticket once it has ``status`` (the last one seen after ``timeout``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        ticket = await ticket_of(ticket_api, headers, ticket_id)
        if ticket["status"] == status or loop.time() > deadline:
            return ticket
        await asyncio.sleep(0.2)


async def comments_of(
    ticket_api: httpx.AsyncClient, headers: dict[str, str], ticket_id: str
) -> list[dict[str, Any]]:
    response = await ticket_api.get(f"/api/v1/tickets/{ticket_id}/comments", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def send_answer(client: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    """Open the answer page like a browser, then send its form back with ``fields``."""
    page = await open_page(client, path)
    assert page.status_code == 200, page.text
    body = {"form_token": form_token(page.text), **fields}
    return await client.post(path, data=body, headers={"Origin": str(client.base_url).rstrip("/")})


def _main_of(html: str) -> str:
    """The words of a page, without its head (for failure messages)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split("<main>")[-1])).strip()
