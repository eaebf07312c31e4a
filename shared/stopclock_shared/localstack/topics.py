"""Create the contract's topics on the local broker (idempotent)."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
from typing import Any

from .config import TOPIC_PARTITIONS, TOPICS
from .output import StackError

TOPIC_ALREADY_EXISTS = 36


def all_topic_names() -> list[str]:
    """The fallback topic list: every topic and its dead-letter twin."""
    return [*TOPICS, *(f"{topic}.dlq" for topic in TOPICS)]


async def _create_missing(bootstrap: str) -> list[str]:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="stopclock-localstack")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in all_topic_names() if name not in existing]
        if missing:
            response = await admin.create_topics(
                [NewTopic(name, TOPIC_PARTITIONS, 1) for name in missing], timeout_ms=30000
            )
            # aiokafka reports per-topic errors in the response instead of raising.
            failed = [
                f"{topic}: error {code} {message}"
                for topic, code, message in response.topic_errors
                if code not in (0, TOPIC_ALREADY_EXISTS)
            ]
            if failed:
                raise StackError("could not create topics: " + "; ".join(failed))
        return missing
    finally:
        await admin.close()


def ensure_topics(bootstrap: str) -> str:
    """Create every topic; returns a one-line summary for the progress output.

    Uses ``stopclock_shared.kafka_admin.ensure_topics`` (the services' own list) when that
    module exists, else the fallback list in ``config.TOPICS``.
    """
    if importlib.util.find_spec("stopclock_shared.kafka_admin") is not None:
        module = importlib.import_module("stopclock_shared.kafka_admin")
        result: Any = module.ensure_topics(bootstrap)
        if inspect.isawaitable(result):
            result = asyncio.run(_await(result))
        count = len(result) if isinstance(result, list | tuple | set) else "all"
        return f"{count} topics ensured (stopclock_shared.kafka_admin)"
    created = asyncio.run(_create_missing(bootstrap))
    return f"{len(all_topic_names())} topics ensured, {len(created)} created"


async def _await(awaitable: Any) -> Any:
    return await awaitable
