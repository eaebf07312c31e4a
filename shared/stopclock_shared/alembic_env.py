"""The body of every service's ``migrations/env.py`` (online, async, advisory-locked)."""

from __future__ import annotations

import asyncio
import zlib

from alembic import context
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def run_migrations(metadata: MetaData) -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"
    lock = zlib.crc32(f"stopclock-migrations-{url}".encode())

    def do_run(connection: Connection) -> None:
        # Replicas starting together migrate one at a time.
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock})
        try:
            context.configure(connection=connection, target_metadata=metadata)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock})

    async def main() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(main())
