"""The ticket service's data migrations, on a throwaway database of the stack's cluster:
tickets already waiting get their ``waiting_since``, and people created before person events
existed are announced once on ``people.events``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import orjson
import pytest
from alembic import command
from alembic.config import Config

from stopclock_shared.events.codec import decode, payload
from stopclock_shared.events.people import PersonUpdated
from stopclock_shared.events.topics import PEOPLE_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.migrate import migrations_dir
from stopclock_shared.testing.databases import throwaway_database
from stopclock_shared.testing.stack import Stack


@pytest.fixture
async def at_0001(stack: Stack) -> AsyncIterator[tuple[Config, asyncpg.Connection]]:
    """A ticket database migrated to revision 0001 (before this work), and a connection."""
    async with throwaway_database(stack, "ticket_migr") as (url, _):
        cfg = Config()
        cfg.set_main_option("script_location", str(migrations_dir("ticket")))
        cfg.set_main_option("sqlalchemy.url", url)
        await asyncio.to_thread(command.upgrade, cfg, "0001")
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            yield cfg, conn
        finally:
            await conn.close()


def day(n: int) -> datetime:
    return datetime(2026, 1, n, 9, 30, tzinfo=UTC)


async def add_ticket(conn: asyncpg.Connection, status: str, moves: list[tuple[int, str]]) -> str:
    ticket_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO tickets (id, number, type, title, description, status, priority, impact,
                                urgency, requester_id, updated_at)
           VALUES ($1, $2, 'incident', 't', 'd', $3, 'P3', 'medium', 'medium', 'alice', $4)""",
        ticket_id,
        f"INC{ticket_id.hex[:7]}",
        status,
        day(20),
    )
    for when, to in moves:
        await conn.execute(
            """INSERT INTO history (ticket_id, version, action, changes, created_at)
               VALUES ($1, 1, 'status_changed', $2::jsonb, $3)""",
            ticket_id,
            orjson.dumps({"status": ["x", to]}).decode(),
            day(when),
        )
    return str(ticket_id)


async def test_tickets_waiting_at_the_upgrade_get_the_start_of_their_last_wait(
    at_0001: tuple[Config, asyncpg.Connection],
) -> None:
    cfg, conn = at_0001
    await conn.execute("INSERT INTO people (id, name, email) VALUES ('alice', 'A', 'a@x.org')")
    waiting = await add_ticket(
        conn,
        "waiting_on_user",
        [(1, "waiting_on_user"), (2, "in_progress"), (3, "waiting_on_user")],
    )
    no_history = await add_ticket(conn, "waiting_on_user", [])
    working = await add_ticket(conn, "in_progress", [(1, "waiting_on_user"), (2, "in_progress")])
    await asyncio.to_thread(command.upgrade, cfg, "head")
    since = {
        str(r["id"]): r["waiting_since"]
        for r in await conn.fetch("SELECT id, waiting_since FROM tickets")
    }
    assert since == {waiting: day(3), no_history: day(20), working: None}


async def test_people_existing_at_the_upgrade_are_announced_once_as_person_events(
    at_0001: tuple[Config, asyncpg.Connection],
) -> None:
    cfg, conn = at_0001
    await conn.execute(
        """INSERT INTO people (id, name, email, manager_id, locale, vip) VALUES
           ('boss', 'Maria Boss', 'maria@x.org', NULL, 'en', false),
           ('alice', 'Alice', 'alice@x.org', 'boss', 'fr', true)"""
    )
    await asyncio.to_thread(command.upgrade, cfg, "head")
    rows = await conn.fetch("SELECT event_id, topic, key, payload FROM outbox ORDER BY id")
    assert [(r["topic"], r["key"]) for r in rows] == [
        (PEOPLE_EVENTS, "alice"),
        (PEOPLE_EVENTS, "boss"),
    ]
    envelopes = [decode(r["payload"]) for r in rows]  # what consumers will read
    assert [e.id for e in envelopes] == [str(r["event_id"]) for r in rows]
    assert {e.type for e in envelopes} == {EventType.PERSON_UPDATED}
    alice = payload(envelopes[0])
    assert isinstance(alice, PersonUpdated)
    assert (alice.person.locale, alice.person.vip, alice.person.manager_email) == (
        "fr",
        True,
        "maria@x.org",
    )
    assert alice.person.manager_name == "Maria Boss"
    assert envelopes[0].subject == "alice"
    await asyncio.to_thread(command.upgrade, cfg, "head")  # at head: announced once
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 2
