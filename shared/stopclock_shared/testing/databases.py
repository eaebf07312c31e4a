"""Throwaway PostgreSQL databases on the stack's cluster, for tests of shared machinery."""

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
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = stack.pg_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}", admin
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
