"""Topics of one test on the stack's broker (names made unique by the caller)."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from .stack import Stack


async def create_topics(stack: Stack, *topics: tuple[str, int]) -> None:
    """Create each (name, partitions) topic, replication factor 1."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name, partitions in topics])
    finally:
        await admin.close()
