"""Throwaway PostgreSQL databases on the stack's cluster, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from .stack import Stack, unique


@asynccontextmanager
async def throwaway_database(
    stack: Stack, prefix: str
) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A new empty database: its SQLAlchemy URL and an admin connection; dropped after."""
    name = unique(prefix).replace("-", "_")
    admin = await asyncpg.connect(stack.pg_admin_url)
    try:
        # template0 takes no connections, so a session open on template1 cannot make this fail.
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        base = stack.pg_admin_url.rsplit("/", 1)[0]
        try:
            yield f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}", admin
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
