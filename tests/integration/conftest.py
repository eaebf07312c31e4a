"""Integration tests run against the real stack that ``make test`` starts (Kafka,
PostgreSQL, SMTP catcher, the services). Nothing here mocks a part of it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import httpx
import pytest

from stopclock_shared.testing.stack import Stack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack() -> Stack:
    return Stack.from_env()


@pytest.fixture(scope="session", autouse=True)
def _stack_is_up(stack: Stack) -> None:
    """Fail loudly (never skip) when the stack is not there: CI must not go green without it."""
    try:
        ready = httpx.get(stack.url("ticket") + "/readyz", timeout=5)
    except httpx.HTTPError as exc:
        pytest.fail(f"the local stack is not running ({exc}); run `make test` or `make run`")
    assert ready.status_code == 200, ready.text


@pytest.fixture
async def ticket_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("ticket"), timeout=15) as client:
        yield client


@pytest.fixture
def admin(stack: Stack) -> dict[str, str]:
    return stack.auth("admin-" + os.urandom(3).hex(), "admin", "agent")
