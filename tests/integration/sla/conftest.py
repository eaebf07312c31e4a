"""Fixtures of the sla integration tests: a client of the sla service of the stack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from stopclock_shared.testing.stack import Stack


@pytest.fixture
async def sla_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("sla"), timeout=30) as client:
        yield client
