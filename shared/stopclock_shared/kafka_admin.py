"""``python -m stopclock_shared.kafka_admin``: create the contract's topics (idempotent)."""

from __future__ import annotations

import asyncio
import os

from .kafka import ensure_topics

__all__ = ["ensure_topics"]

if __name__ == "__main__":
    bootstrap = os.environ.get("STOPCLOCK_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    created = asyncio.run(ensure_topics(bootstrap))
    print(f"topics ready: {len(created)}")
