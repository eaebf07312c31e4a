"""The shared idempotent consumer against real Kafka and PostgreSQL, one poll at a time.

Events that arrive together are applied in one transaction; a redelivered event and the same
event twice in one poll are applied once; when one event of a poll fails, only that event is
dead-lettered and every other one is still applied, exactly once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from stopclock_shared.consumer import EventConsumer
from stopclock_shared.db import common_tables, make_metadata, make_sessionmaker
from stopclock_shared.event_routes import Delivery, Routes
from stopclock_shared.events.codec import encode
from stopclock_shared.events.commands import ReopenCommand
from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.topics import dlq
from stopclock_shared.events.types import EventType
from stopclock_shared.kafka import make_producer
from stopclock_shared.testing.stack import Stack, unique
from stopclock_shared.testing.topics import create_topics

TYPE = EventType.COMMAND_REOPEN  # any contract type: the test's handler is its own
metadata: MetaData = make_metadata()
_, processed_table, _ = common_tables(metadata)
applied = Table("applied", metadata, Column("event_id", String(64), nullable=False))


@pytest.fixture
def tables() -> MetaData:
    return metadata


@pytest.fixture
async def topic(stack: Stack) -> str:
    name = unique("test.consumer")
    await create_topics(stack, (name, 1), (dlq(name), 1))
    return name


def event(n: int, *, poison: bool = False) -> Envelope:
    data = {"ticket_id": f"t-{n}", "reason": "poison" if poison else None}
    return new_envelope(TYPE, source="tests", subject="t-1", time=datetime.now(UTC), data=data)


async def handler(event: ReopenCommand, delivery: Delivery) -> None:
    await delivery.session.execute(insert(applied).values(event_id=delivery.envelope.id))
    if event.reason == "poison":
        raise ValueError(f"poison event {event.ticket_id}")


async def applied_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(applied.c.event_id, func.count()).group_by("event_id"))
        return {r[0]: r[1] for r in rows}


async def dead_letters(stack: Stack, topic: str, want: int) -> list[dict[str, Any]]:
    reader = AIOKafkaConsumer(
        dlq(topic), bootstrap_servers=stack.kafka, auto_offset_reset="earliest"
    )
    await reader.start()
    found: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(20):
            while len(found) < want:
                for msgs in (await reader.getmany(timeout_ms=500)).values():
                    found.extend(orjson.loads(m.value or b"{}") for m in msgs)
        await asyncio.sleep(1)  # nothing more than wanted
        for msgs in (await reader.getmany(timeout_ms=500)).values():
            found.extend(orjson.loads(m.value or b"{}") for m in msgs)
    finally:
        await reader.stop()
    return found


async def test_a_poll_is_applied_once_and_only_the_poison_event_is_dead_lettered(
    engine: AsyncEngine, topic: str, stack: Stack
) -> None:
    good = [event(i) for i in range(30)]
    poison = event(99, poison=True)
    # Everything is on the broker before the consumer starts, so the first poll holds it all:
    # good events, one sent twice, then the poison one in the middle of the rest.
    stream = [*good[:10], good[3], poison, *good[10:]]
    producer = make_producer(stack.kafka, "consumer-test")
    await producer.start()
    for env in stream:
        await producer.send_and_wait(topic, encode(env), key=b"t-1")

    consumer = EventConsumer(
        service="tests",
        name=unique("consumer"),
        topics=[topic],
        routes=Routes().on(TYPE, handler),
        sessionmaker=make_sessionmaker(engine),
        processed=processed_table,
        producer=producer,
        bootstrap=stack.kafka,
        group_id=unique("group"),
    )
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(30):
            while len(await applied_counts(engine)) < len(good):
                await asyncio.sleep(0.2)
        parked = await dead_letters(stack, topic, 1)
        # A redelivery of events already applied (as after a crash before the offset commit).
        for env in good[:5]:
            await producer.send_and_wait(topic, encode(env), key=b"t-1")
        await asyncio.sleep(3)
        counts = await applied_counts(engine)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()

    assert counts == {env.id: 1 for env in good}, "every good event applied exactly once"
    assert [p["event_id"] for p in parked] == [poison.id]
    assert "poison event t-99" in parked[0]["error"]
    async with engine.connect() as conn:
        recorded = set((await conn.execute(select(processed_table.c.event_id))).scalars())
    assert {str(e) for e in recorded} == {env.id for env in good}, "the poison id is not recorded"
