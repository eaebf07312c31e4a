"""Pooled connections the server closed (restart, fail-over, an admin's kill) are replaced at
checkout, without a ping round trip and without failing the next transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from stopclock_shared.db import make_engine, make_sessionmaker
from stopclock_shared.testing.databases import throwaway_database
from stopclock_shared.testing.stack import Stack


@pytest.fixture
async def database(stack: Stack) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    async with throwaway_database(stack, "pool") as found:
        yield found


async def backend_pid(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine)() as session, session.begin():
        return int((await session.execute(select(text("pg_backend_pid()")))).scalar_one())


async def test_connections_killed_by_the_server_are_replaced_at_checkout(
    database: tuple[str, asyncpg.Connection],
) -> None:
    url, admin = database
    engine = make_engine(url, pool_size=4)
    try:
        # Four connections in the pool, each used once.
        async with asyncio.TaskGroup() as tg:
            first = [tg.create_task(slow_pid(engine)) for _ in range(4)]
        pooled = {t.result() for t in first}
        assert len(pooled) == 4

        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid = ANY($1)",
            list(pooled),
        )
        assert killed == 4
        await asyncio.sleep(0.5)  # the event loop sees the sockets close

        after = [await backend_pid(engine) for _ in range(8)]
        assert not set(after) & pooled, "no transaction ran on a killed connection"
    finally:
        await engine.dispose()


async def slow_pid(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(text("SELECT pg_sleep(0.2)"))
        return int((await session.execute(select(text("pg_backend_pid()")))).scalar_one())
