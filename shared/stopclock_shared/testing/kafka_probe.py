"""Watch a topic from "now" on and wait for messages matching a predicate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition


async def assign_all(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """Assign every partition of ``topic`` to a started group-less consumer."""
    partitions = consumer.partitions_for_topic(topic)
    for _ in range(50):
        if partitions:
            break
        await asyncio.sleep(0.1)
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic)
    assert partitions, f"topic {topic} has no partitions"
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(tps)
    return tps


async def partitions_of(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of ``topics`` the cluster has now (one metadata request)."""
    cluster = await consumer._client.fetch_all_metadata()
    return [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(cluster.partitions_for_topic(topic) or ())
    ]


@asynccontextmanager
async def started_consumer(
    bootstrap: str, group_id: str | None = None
) -> AsyncIterator[AIOKafkaConsumer]:
    """A started consumer that commits only when told (group-less by default)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def position_group_at_end(bootstrap: str, group_id: str, topics: Iterable[str]) -> None:
    """Commit the group's offsets at the end of ``topics``: it starts from now."""
    async with started_consumer(bootstrap, group_id) as consumer:
        tps = await partitions_of(consumer, topics)
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        await consumer.commit({tp: await consumer.position(tp) for tp in tps})


async def group_lag(bootstrap: str, group_id: str, topics: Iterable[str]) -> int:
    """Messages of ``topics`` the group has not committed yet (0: it has caught up)."""
    async with started_consumer(bootstrap, group_id) as consumer:
        tps = await partitions_of(consumer, topics)
        ends = await consumer.end_offsets(tps)
        return sum([max(0, ends[tp] - (await consumer.committed(tp) or 0)) for tp in tps])


async def end_offsets(bootstrap: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    """The end offset of every partition of ``topics`` now."""
    async with started_consumer(bootstrap) as consumer:
        tps = await partitions_of(consumer, topics)
        return dict(await consumer.end_offsets(tps)) if tps else {}


async def read_topic(bootstrap: str, topic: str) -> list[bytes]:
    """Every message value on ``topic``, from the beginning to the end it has now."""
    async with started_consumer(bootstrap) as consumer:
        tps = await assign_all(consumer, topic)
        ends = await consumer.end_offsets(tps)
        # An explicit offset, not seek_to_beginning(): its reset is lazy and may race with
        # position(), which then reports the end.
        for tp, offset in (await consumer.beginning_offsets(tps)).items():
            consumer.seek(tp, offset)
        values: list[bytes] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            values += [m.value or b"" for msgs in batch.values() for m in msgs]
        return values


class KafkaProbe:
    """A group-less consumer positioned at the end of every partition when started."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.seen: list[ConsumerRecord[bytes, bytes]] = []

    async def __aenter__(self) -> KafkaProbe:
        await self.consumer.start()
        tps = await assign_all(self.consumer, self.topic)
        await self.consumer.seek_to_end(*tps)
        for tp in tps:  # resolve positions now, so later messages are never skipped
            await self.consumer.position(tp)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def wait_for(
        self,
        match: Callable[[ConsumerRecord[bytes, bytes]], bool],
        timeout: float = 15.0,
        count: int = 1,
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Messages matching ``match`` (at least ``count``) seen before ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [m for m in self.seen if match(m)]
            if len(found) >= count or loop.time() > deadline:
                return found
            batch = await self.consumer.getmany(timeout_ms=200)
            for msgs in batch.values():
                self.seen.extend(msgs)

    async def events_for(
        self, subject: str, count: int = 1, timeout: float = 15.0, type_: str | None = None
    ) -> list[dict[str, Any]]:
        """Decoded envelopes whose subject is ``subject`` (and type, if given)."""

        def match(m: ConsumerRecord[bytes, bytes]) -> bool:
            try:
                env = orjson.loads(m.value or b"{}")
            except orjson.JSONDecodeError:
                return False
            return bool(
                env.get("subject") == subject and (type_ is None or env.get("type") == type_)
            )

        return [orjson.loads(m.value or b"") for m in await self.wait_for(match, timeout, count)]


async def send_raw(bootstrap: str, topic: str, key: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key.encode())
    finally:
        await producer.stop()
