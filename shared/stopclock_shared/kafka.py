"""Kafka producer/consumer construction and topic creation (aiokafka)."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from .events.topics import ALL_TOPICS, dlq

log = logging.getLogger(__name__)
TOPIC_ALREADY_EXISTS = 36


def make_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    """Idempotent, acks=all: a retried send never duplicates or reorders within a partition."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=1,
        request_timeout_ms=15000,
    )


def make_consumer(
    bootstrap: str,
    group_id: str,
    client_id: str,
    *,
    max_poll_records: int = 200,
    fetch_max_wait_ms: int = 500,
) -> AIOKafkaConsumer:
    """Manual commits only: offsets are committed after the database transaction.

    ``fetch_max_wait_ms`` is how long the broker holds a fetch with nothing new: an idle
    partition is answered that often (the sla service's event-time marks follow answers).
    """
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_poll_records,
        fetch_max_wait_ms=fetch_max_wait_ms,
        session_timeout_ms=10000,
        heartbeat_interval_ms=2000,
        # A replica that dies is noticed by the session timeout; a live one must not be kicked
        # out while it works through a large batch.
        max_poll_interval_ms=300000,
    )


async def ensure_topics(bootstrap: str, partitions: int = 12) -> list[str]:
    """Create every contract topic and its DLQ; existing topics count as success."""
    names = [*ALL_TOPICS, *(dlq(t) for t in ALL_TOPICS)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="stopclock-admin")
    await admin.start()
    try:
        response = await admin.create_topics(
            [NewTopic(name, partitions, 1) for name in names], timeout_ms=30000
        )
        failed = [
            f"{topic}: {code} {msg}"
            for topic, code, msg in response.topic_errors
            if code not in (0, TOPIC_ALREADY_EXISTS)
        ]
        if failed:
            raise RuntimeError("could not create topics: " + "; ".join(failed))
        return names
    finally:
        await admin.close()


__all__ = ["ConsumerRebalanceListener", "ensure_topics", "make_consumer", "make_producer"]
