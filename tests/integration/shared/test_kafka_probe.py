"""The Kafka helpers tests and benches share (testing/kafka_probe.py), on a private topic."""

from __future__ import annotations

import pytest

from stopclock_shared.testing.kafka_probe import (
    end_offsets,
    group_lag,
    position_group_at_end,
    read_topic,
    send_raw,
)
from stopclock_shared.testing.stack import Stack, unique
from stopclock_shared.testing.topics import create_topics


@pytest.fixture
async def topic(stack: Stack) -> str:
    name = unique("test.probe")
    await create_topics(stack, (name, 3))
    return name


async def test_a_group_positioned_at_the_end_lags_only_by_what_came_after(
    stack: Stack, topic: str
) -> None:
    for key in ("a", "b", "c", "d"):
        await send_raw(stack.kafka, topic, key, b"before")
    group = unique("probe-group")
    assert await group_lag(stack.kafka, group, [topic]) == 4  # nothing committed yet
    await position_group_at_end(stack.kafka, group, [topic])
    assert await group_lag(stack.kafka, group, [topic]) == 0
    await send_raw(stack.kafka, topic, "e", b"after")
    assert await group_lag(stack.kafka, group, [topic]) == 1


async def test_end_offsets_cover_every_partition_and_count_every_message(
    stack: Stack, topic: str
) -> None:
    for key in ("a", "b", "c", "d", "e"):
        await send_raw(stack.kafka, topic, key, key.encode())
    ends = await end_offsets(stack.kafka, [topic])
    assert sorted(tp.partition for tp in ends) == [0, 1, 2]
    assert sum(ends.values()) == 5
    assert sorted(await read_topic(stack.kafka, topic)) == [b"a", b"b", b"c", b"d", b"e"]
