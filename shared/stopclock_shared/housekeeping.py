"""Keep the bookkeeping tables bounded: published outbox rows, processed event ids and
idempotency keys are deleted once they can no longer matter.

- ``outbox``: rows published more than a day ago (kept a while for audits).
- ``processed_events``: ids older than a week. An event is redelivered within seconds of a
  crash or rebalance; a week is far beyond that, and matches Kafka's default retention, after
  which the event could not be redelivered anyway.
- ``idempotency_keys``: keys past their 24 h promise (``idempotency.TTL``).

Deletes go in batches so that no transaction holds many row locks or runs long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import column, delete, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from .idempotency import TTL as IDEMPOTENCY_TTL

OUTBOX_RETENTION = timedelta(hours=24)
PROCESSED_RETENTION = timedelta(days=7)
BATCH = 5000


@dataclass(frozen=True)
class Rule:
    table: str
    column: str
    keep: timedelta


RULES = (
    Rule("outbox", "published_at", OUTBOX_RETENTION),
    Rule("processed_events", "processed_at", PROCESSED_RETENTION),
    Rule("idempotency_keys", "created_at", IDEMPOTENCY_TTL),
)


async def prune(session: AsyncSession, now: datetime, batch: int = BATCH) -> dict[str, int]:
    """Delete what the rules say is old enough in the bookkeeping tables every service has
    (``db.common_tables``); returns the rows deleted per table. Commits after each batch."""
    deleted: dict[str, int] = {}
    for rule in RULES:
        # A lightweight table clause: the system column ``ctid`` addresses a batch of rows
        # without an index on the time column.
        t = table(rule.table, column("ctid"), column(rule.column))
        before = now - rule.keep
        deleted[rule.table] = 0
        while True:
            doomed = select(t.c.ctid).where(t.c[rule.column] < before).limit(batch)
            result = await session.execute(delete(t).where(t.c.ctid.in_(doomed.scalar_subquery())))
            await session.commit()
            count = int(getattr(result, "rowcount", 0) or 0)
            deleted[rule.table] += count
            if count < batch:
                break
    return deleted
