"""Create the contract's topics on the local broker (idempotent).

The list and the creation live in ``stopclock_shared.kafka`` (what the services use too),
so the stack never carries a second topic list that could drift.
"""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaError

from stopclock_shared.events.topics import ALL_TOPICS, dlq
from stopclock_shared.kafka import ensure_topics as create_topics

from .config import TOPIC_PARTITIONS
from .output import StackError


def all_topic_names() -> list[str]:
    """Every topic of the contract and its dead-letter twin."""
    return [*ALL_TOPICS, *(dlq(topic) for topic in ALL_TOPICS)]


def ensure_topics(bootstrap: str) -> str:
    """Create every topic; returns a one-line summary for the progress output."""
    try:
        names = asyncio.run(create_topics(bootstrap, TOPIC_PARTITIONS))
    except (RuntimeError, KafkaError) as error:
        raise StackError(f"could not create the topics on {bootstrap}: {error}") from error
    return f"{len(names)} topics ensured ({TOPIC_PARTITIONS} partitions)"
