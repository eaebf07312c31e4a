"""Fixtures of the notification tests: the service's API and a watcher of the Maildir."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.types import EventType
from stopclock_shared.testing.maildir import MailWatcher
from stopclock_shared.testing.stack import Stack, unique


@pytest.fixture
def mails(stack: Stack) -> MailWatcher:
    return MailWatcher(stack.maildir)


@pytest.fixture
async def notification_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("notification"), timeout=15) as client:
        yield client


@pytest.fixture(scope="session", autouse=True)
def _notification_is_up(stack: Stack) -> None:
    """Fail loudly (never skip) when the notification service is not there."""
    try:
        ready = httpx.get(stack.url("notification") + "/readyz", timeout=5)
    except httpx.HTTPError as exc:
        pytest.fail(f"the notification service is not running ({exc}); run `make test`")
    assert ready.status_code == 200, ready.text


def ticket_created(
    *,
    email: str,
    number: str = "INC0000001",
    person_id: str | None = None,
    time: datetime | None = None,
) -> Envelope:
    """A synthetic ``stopclock.ticket.created.v1`` for a fresh ticket (docs/events.md)."""
    ticket_id = str(uuid.uuid4())
    at = time or datetime.now(UTC)
    person = person_id or unique("person")
    requester = {
        "id": person,
        "name": f"Person {person}",
        "email": email,
        "timezone": "Europe/Paris",
        "locale": "en",
        "vip": False,
        "difficult": False,
        "manager_id": None,
        "manager_email": None,
        "manager_name": None,
    }
    snapshot: dict[str, Any] = {
        "id": ticket_id,
        "number": number,
        "type": "incident",
        "title": "Synthetic ticket",
        "description": "Made by a notification test.",
        "status": "new",
        "waiting_reason": None,
        "priority": "P3",
        "impact": "medium",
        "urgency": "medium",
        "requester": requester,
        "assignee_id": None,
        "assignee": None,
        "group": None,
        "service": None,
        "category": None,
        "work_blocked": False,
        "created_at": at.isoformat(),
        "updated_at": at.isoformat(),
        "resolved_at": None,
        "closed_at": None,
        "resolution": None,
        "version": 1,
    }
    return new_envelope(
        EventType.TICKET_CREATED,
        source="tests/notification",
        subject=ticket_id,
        time=at,
        data={"ticket": snapshot},
        sequence=1,
    )


@pytest.fixture(scope="session")
def make_ticket_created() -> Callable[..., Envelope]:
    """Builds synthetic ticket.created envelopes (keyword arguments of ``ticket_created``)."""
    return ticket_created


@asynccontextmanager
async def database_for_test(stack: Stack) -> AsyncIterator[str]:
    """A fresh, empty database on the stack's PostgreSQL (its SQLAlchemy asyncpg URL)."""
    name = unique("notification_test").replace("-", "_")
    admin = await asyncpg.connect(stack.pg_admin_url)
    try:
        # template0 takes no connections, so a session open on template1 cannot make this fail.
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        base = stack.pg_admin_url.rsplit("/", 1)[0]
        yield f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def new_database(stack: Stack) -> Callable[[], AbstractAsyncContextManager[str]]:
    """Makes throwaway databases (``async with new_database() as url``), for wider scopes."""
    return lambda: database_for_test(stack)


@pytest.fixture
async def throwaway_database(stack: Stack) -> AsyncIterator[str]:
    async with database_for_test(stack) as url:
        yield url
