"""Transactional outbox: events are rows written with the state change, published by a relay.

PostgreSQL, not the single-node broker, is the source of truth: a row is marked published only
after the broker acked it, so a crash anywhere (service, relay, broker) is recovered by
publishing unsent rows again. Consumers deduplicate by event id, so a re-publish is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import zlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import (
    CTE,
    Insert,
    Select,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from . import housekeeping, metrics
from .events.codec import CONTENT_TYPE, encode
from .events.envelope import Envelope

log = logging.getLogger(__name__)
BeforePublish = Callable[[Sequence[Any]], Awaitable[None]]


class Outbox:
    """Writes events into a service's ``outbox`` table inside the caller's transaction."""

    def __init__(self, table: Table, service: str) -> None:
        self.table = table
        self.channel = f"outbox_{service}"
        # Built once: the hot path of every write.
        self._insert_many = text(
            f"""
            WITH written AS (
                INSERT INTO {table.name} (event_id, topic, key, payload)
                SELECT * FROM unnest(
                    CAST(:event_ids AS uuid[]), CAST(:topics AS text[]),
                    CAST(:keys AS text[]), CAST(:payloads AS bytea[])
                )
                RETURNING id
            )
            SELECT pg_notify(:channel, '') FROM (SELECT id FROM written LIMIT 1) AS first
            """
        )
        self._insert_one = self._written_and_notified(
            insert(table).values({c: bindparam(c) for c in ("event_id", "topic", "key", "payload")})
        )

    async def add(self, session: AsyncSession, topic: str, key: str, envelope: Envelope) -> None:
        await self.add_many(session, topic, [(key, envelope)])

    def with_writes(self, *writes: CTE) -> Select[Any]:
        """One event's INSERT (and NOTIFY) together with other writes, as one statement.

        ``writes`` are data-modifying CTEs (``insert(...).returning(...).cte()``) whose bind
        names differ from the outbox's (event_id, topic, key, payload); build it once and
        execute it with ``{**write_params, **outbox.params(topic, key, envelope)}``: the
        state change and its event then cost a single round trip.
        """
        return self._insert_one.add_cte(*writes)

    @staticmethod
    def params(topic: str, key: str, envelope: Envelope) -> dict[str, Any]:
        return {
            "event_id": uuid.UUID(envelope.id),
            "topic": topic,
            "key": key,
            "payload": encode(envelope),
        }

    async def add_many(
        self, session: AsyncSession, topic: str, events: Sequence[tuple[str, Envelope]]
    ) -> None:
        """Write several (key, envelope) events in one INSERT and one NOTIFY."""
        if not events:
            return
        rows = [self.params(topic, key, env) for key, env in events]
        if len(rows) == 1:
            await session.execute(self._insert_one, rows[0])
            return
        # Arrays of columns, so the statement has one shape (and one cache entry) whatever
        # the number of rows; a multi-VALUES insert would be compiled again for every count.
        await session.execute(
            self._insert_many,
            {
                "event_ids": [r["event_id"] for r in rows],
                "topics": [r["topic"] for r in rows],
                "keys": [r["key"] for r in rows],
                "payloads": [r["payload"] for r in rows],
                "channel": self.channel,
            },
        )

    def _written_and_notified(self, write: Insert) -> Select[Any]:
        """The INSERT and the relay's NOTIFY in one round trip.

        A data-modifying CTE always runs in full; the NOTIFY is delivered at commit (folded
        into one per transaction) and wakes the relay at once.
        """
        written = write.returning(self.table.c.id).cte("written")
        first = select(written.c.id).limit(1).subquery()
        return select(func.pg_notify(self.channel, "")).select_from(first)


class OutboxRelay:
    """Publishes unsent outbox rows in id order; one active relay per database (advisory lock)."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        outbox: Outbox,
        producer: AIOKafkaProducer,
        service: str,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        before_publish: BeforePublish | None = None,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.table = outbox.table
        self.producer = producer
        self.service = service
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.before_publish = before_publish  # fault injection in tests
        self.maker = async_sessionmaker(engine, expire_on_commit=False)
        self.lock_key = zlib.crc32(f"stopclock-outbox-{service}".encode())
        self.is_leader = False
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Run forever: wait for leadership, then publish on every NOTIFY (or poll tick)."""
        while True:
            try:
                await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.is_leader = False
                log.exception("outbox relay failed; retrying in 1 s")
                await asyncio.sleep(1)

    async def _lead(self) -> None:
        async with self.engine.connect() as conn:
            try:
                await self._lead_on(conn)
            finally:
                # Never hand a connection holding the session lock back to the pool: closing
                # it is what releases the lock for the next leader.
                await conn.invalidate()

    async def _lead_on(self, conn: AsyncConnection) -> None:
        raw = await conn.get_raw_connection()
        pg = raw.driver_connection
        assert pg is not None
        while not await pg.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
            await asyncio.sleep(2)
        self.is_leader = True
        log.info("outbox relay is the leader for %s", self.service)

        def on_notify(*_: object) -> None:
            self._wake.set()

        await pg.add_listener(self.outbox.channel, on_notify)
        try:
            while True:
                self._wake.clear()
                published = await self.publish_batch()
                if published >= self.batch_size:
                    continue
                try:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
                    # cancellation that lands as the wait completes, hanging shutdown.
                    async with asyncio.timeout(self.poll_seconds):
                        await self._wake.wait()
                except TimeoutError:
                    # The poll doubles as a liveness check of the lock connection.
                    await pg.fetchval("SELECT 1")
        finally:
            self.is_leader = False

    async def publish_batch(self) -> int:
        """Claim, send and mark one batch; nothing is marked unless the broker acked it."""
        t = self.table
        async with self.maker() as session, session.begin():
            rows = (
                await session.execute(
                    select(t.c.id, t.c.topic, t.c.key, t.c.payload, t.c.created_at)
                    .where(t.c.published_at.is_(None))
                    .order_by(t.c.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            if self.before_publish is not None:
                await self.before_publish(rows)
            headers = [("content-type", CONTENT_TYPE)]
            futures = [
                await self.producer.send(r.topic, r.payload, key=r.key.encode(), headers=headers)
                for r in rows
            ]
            await asyncio.gather(*futures)
            now = datetime.now(UTC)
            await session.execute(
                update(t).where(t.c.id.in_([r.id for r in rows])).values(published_at=now)
            )
        for r in rows:
            metrics.OUTBOX_PUBLISHED.labels(self.service, r.topic).inc()
            metrics.OUTBOX_LATENCY.labels(self.service).observe(
                max(0.0, (now - r.created_at).total_seconds())
            )
        return len(rows)

    async def watch(self, interval: float = 5.0) -> None:
        """Export backlog metrics; the leader prunes the bookkeeping tables every 60 ticks
        (``housekeeping``)."""
        t = self.table
        ticks = 0
        while True:
            try:
                async with self.maker() as session:
                    count, oldest = (
                        await session.execute(
                            select(func.count(), func.min(t.c.created_at)).where(
                                t.c.published_at.is_(None)
                            )
                        )
                    ).one()
                    metrics.OUTBOX_BACKLOG.labels(self.service).set(count)
                    age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
                    metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(max(0.0, age))
                    ticks += 1
                    if self.is_leader and ticks % 60 == 0:
                        # One replica (the leader) keeps the bookkeeping tables bounded.
                        deleted = await housekeeping.prune(session, datetime.now(UTC))
                        if any(deleted.values()):
                            log.info("pruned bookkeeping rows: %s", deleted)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("outbox metrics query failed", exc_info=True)
            await asyncio.sleep(interval)
