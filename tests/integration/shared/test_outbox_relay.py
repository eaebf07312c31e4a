"""The outbox relay against real PostgreSQL and Kafka: a relay killed after the commit and
before the publish loses nothing; the next leader publishes every row exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine

from stopclock_shared.db import common_tables, make_metadata, make_sessionmaker
from stopclock_shared.events.envelope import new_envelope
from stopclock_shared.kafka import make_producer
from stopclock_shared.outbox import Outbox, OutboxRelay
from stopclock_shared.testing.kafka_probe import KafkaProbe
from stopclock_shared.testing.stack import Stack, unique
from stopclock_shared.testing.topics import create_topics

metadata = make_metadata()
outbox_table, _, _ = common_tables(metadata)


@pytest.fixture
def tables() -> MetaData:
    return metadata


@pytest.fixture
async def topic(stack: Stack) -> str:
    name = unique("test.relay")
    await create_topics(stack, (name, 3))
    return name


async def write_events(engine: AsyncEngine, outbox: Outbox, topic: str, n: int) -> list[str]:
    ids = []
    async with make_sessionmaker(engine)() as session, session.begin():
        for i in range(n):
            env = new_envelope(
                "stopclock.test.relay.v1",
                source="tests",
                subject=f"key-{i % 4}",
                time=datetime.now(UTC),
                data={"i": i},
            )
            await outbox.add(session, topic, f"key-{i % 4}", env)
            ids.append(env.id)
    return ids


async def test_relay_killed_between_commit_and_publish_loses_nothing(
    engine: AsyncEngine, topic: str, stack: Stack
) -> None:
    service = unique("svc")
    outbox = Outbox(outbox_table, service)
    producer = make_producer(stack.kafka, "relay-test")
    await producer.start()
    claimed = asyncio.Event()

    async def hang(rows: Sequence[Any]) -> None:
        claimed.set()
        await asyncio.Event().wait()  # the process "dies" here: rows claimed, nothing sent

    first = OutboxRelay(
        engine=engine, outbox=outbox, producer=producer, service=service, before_publish=hang
    )
    async with KafkaProbe(stack.kafka, topic) as probe:
        killed = asyncio.create_task(first.run())
        ids = await write_events(engine, outbox, topic, 40)
        await asyncio.wait_for(claimed.wait(), 10)
        killed.cancel()  # the kill: its connection and transaction go away
        await asyncio.gather(killed, return_exceptions=True)
        assert await probe.wait_for(lambda m: True, timeout=1) == []

        second = OutboxRelay(engine=engine, outbox=outbox, producer=producer, service=service)
        survivor = asyncio.create_task(second.run())
        records = await probe.wait_for(lambda m: True, count=40, timeout=20)
        await asyncio.sleep(0.5)  # anything extra would show up now
        records = probe.seen
        survivor.cancel()
        await asyncio.gather(survivor, return_exceptions=True)
    await producer.stop()

    published = [orjson.loads(r.value or b"")["id"] for r in records]
    assert sorted(published) == sorted(ids)  # every row, exactly once
    by_key: dict[bytes, list[int]] = {}
    for r in records:
        by_key.setdefault(r.key or b"", []).append(orjson.loads(r.value or b"")["data"]["i"])
    assert all(seq == sorted(seq) for seq in by_key.values())  # order kept per key
    async with make_sessionmaker(engine)() as session:
        unsent = (
            await session.execute(
                select(outbox_table.c.id).where(outbox_table.c.published_at.is_(None))
            )
        ).all()
    assert unsent == []


async def test_only_one_relay_leads_per_database(
    engine: AsyncEngine, topic: str, stack: Stack
) -> None:
    service = unique("svc")
    outbox = Outbox(outbox_table, service)
    producer = make_producer(stack.kafka, "relay-test")
    await producer.start()
    relays = [
        OutboxRelay(engine=engine, outbox=outbox, producer=producer, service=service)
        for _ in range(3)
    ]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    try:
        await asyncio.sleep(1.5)
        assert sum(r.is_leader for r in relays) == 1
        leader = next(t for t, r in zip(tasks, relays, strict=True) if r.is_leader)
        leader.cancel()
        await asyncio.gather(leader, return_exceptions=True)
        await asyncio.sleep(3)  # a standby retries the lock every 2 s
        assert sum(r.is_leader for r, t in zip(relays, tasks, strict=True) if not t.done()) == 1
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.stop()
