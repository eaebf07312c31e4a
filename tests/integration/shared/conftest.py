"""Fixtures of the shared machinery's tests: a throwaway database.

A module says which tables it needs with a ``tables`` fixture (a MetaData)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from stopclock_shared.testing.databases import throwaway_database
from stopclock_shared.testing.stack import Stack


@pytest.fixture
async def engine(stack: Stack, tables: MetaData) -> AsyncIterator[AsyncEngine]:
    """A throwaway database holding ``tables``."""
    async with throwaway_database(stack, "shared") as (url, _):
        eng = create_async_engine(url)
        async with eng.begin() as conn:
            await conn.run_sync(tables.create_all)
        yield eng
        await eng.dispose()
