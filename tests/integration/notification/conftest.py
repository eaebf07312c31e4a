"""Fixtures of the notification tests: the service's API and a watcher of the Maildir."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from stopclock_shared.events.envelope import Envelope
from stopclock_shared.testing import databases, events
from stopclock_shared.testing.maildir import MailWatcher
from stopclock_shared.testing.stack import Stack


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


def ticket_created(**fields: Any) -> Envelope:
    return events.ticket_created(source="tests/notification", **fields)


@pytest.fixture(scope="session")
def make_ticket_created() -> Callable[..., Envelope]:
    """Builds synthetic ticket.created envelopes (keyword arguments of ``ticket_created``)."""
    return ticket_created


@asynccontextmanager
async def database_for_test(stack: Stack) -> AsyncIterator[str]:
    """A fresh, empty database on the stack's PostgreSQL (its SQLAlchemy asyncpg URL)."""
    async with databases.throwaway_database(stack, "notification_test") as (url, _):
        yield url


@pytest.fixture(scope="session")
def new_database(stack: Stack) -> Callable[[], AbstractAsyncContextManager[str]]:
    """Makes throwaway databases (``async with new_database() as url``), for wider scopes."""
    return lambda: database_for_test(stack)


@pytest.fixture
async def throwaway_database(stack: Stack) -> AsyncIterator[str]:
    async with database_for_test(stack) as url:
        yield url
