"""Every service's migration history, applied to an empty database, yields exactly its models
(no drift between models.py and migrations), and running it twice is a no-op."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from alembic import command
from alembic.config import Config

from stopclock_shared.migrate import migrations_dir, upgrade
from stopclock_shared.testing.stack import Stack, unique

SERVICES = ["ticket", "sla", "notification", "escalation", "survey"]


@pytest.fixture
async def empty_database(stack: Stack) -> AsyncIterator[str]:
    name = unique("migr").replace("-", "_")
    admin = await asyncpg.connect(stack.pg_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = stack.pg_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await admin.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_build_exactly_the_models(service: str, empty_database: str) -> None:
    def migrate_then_check() -> None:
        upgrade(service, empty_database)
        upgrade(service, empty_database)  # idempotent
        cfg = Config()
        cfg.set_main_option("script_location", str(migrations_dir(service)))
        cfg.set_main_option("sqlalchemy.url", empty_database)
        command.check(cfg)  # raises when the models and the migrated schema differ

    # alembic's env runs its own event loop: keep it off ours.
    await asyncio.to_thread(migrate_then_check)
