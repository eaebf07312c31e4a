"""Helpers of the survey integration tests: a resolved ticket and its invitation, the form."""

from __future__ import annotations

import os
import re
from typing import Any

import httpx

from stopclock_shared.events.topics import SURVEYS_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe
from stopclock_shared.testing.stack import Stack

FORM_TOKEN = re.compile(r'name="form_token" value="([0-9a-f]{64})"')


async def resolved_with_invitation(
    ticket_api: httpx.AsyncClient,
    headers: dict[str, str],
    stack: Stack,
    person: dict[str, Any] | None = None,
    **ticket_fields: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ticket resolved by an agent, and the ``survey.requested`` data it caused."""
    person = person or await put_person(ticket_api, headers)
    ticket = await open_ticket(ticket_api, headers, person["id"], **ticket_fields)
    async with KafkaProbe(stack.kafka, SURVEYS_EVENTS) as probe:
        await move(ticket_api, headers, ticket["id"], "in_progress")
        await move(ticket_api, headers, ticket["id"], "resolved", resolution="Client reinstalled.")
        [event] = await probe.events_for(ticket["id"], type_=EventType.SURVEY_REQUESTED)
    data: dict[str, Any] = event["data"]
    return ticket, data


def path_of(url: str) -> str:
    """``/s/<token>`` of an invitation link (the survey service's base may differ in tests)."""
    return "/s/" + url.rsplit("/s/", 1)[1]


def form_token(html: str) -> str:
    found = FORM_TOKEN.search(html)
    assert found, "the page has no form token"
    return found.group(1)


async def answer(client: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    """Fetch the form like a browser, then send it back with ``fields``."""
    page = await client.get(path)
    assert page.status_code == 200, page.text
    body = {"form_token": form_token(page.text), **fields}
    return await client.post(path, data=body, headers={"Origin": str(client.base_url).rstrip("/")})


def survey_database_url(stack: Stack) -> str:
    """The survey database (``make test`` exports it; otherwise the admin's, same cluster)."""
    url = os.environ.get("STOPCLOCK_SURVEY_DATABASE_URL")
    if url:
        return url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return stack.pg_admin_url.rsplit("/", 1)[0] + "/stopclock_survey"
