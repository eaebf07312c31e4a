"""The idempotent consumer: decode, dispatch, record the event id, then commit the offset.

- Applying an event and recording its id happen in one database transaction, and the Kafka
  offset is committed only after that commit: a redelivery finds the id and is skipped.
- Unknown event types are ignored (counted), malformed messages and handler errors go to
  ``<topic>.dlq`` with the error, and the consumer goes on: a bad message never stalls a
  partition.
- Infrastructure errors (database or broker unreachable) are retried with backoff, never
  dead-lettered: the message is fine, the world is not.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from sqlalchemy import Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from . import metrics
from .events.codec import MalformedMessage, decode, payload
from .events.envelope import Envelope
from .events.topics import dlq
from .kafka import make_consumer
from .logs import correlation_id

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope, Any, ConsumerRecord[bytes, bytes]], Awaitable[None]]
PartitionHook = Callable[[set[TopicPartition]], Awaitable[None]]
_NAMESPACE = uuid.UUID("6c1f1a4e-8f5b-4a53-9a7e-0c1c0d5e2f10")


def event_uuid(event_id: str) -> uuid.UUID:
    """Envelope ids are uuids by contract; tolerate others by hashing them stably."""
    try:
        return uuid.UUID(event_id)
    except ValueError:
        return uuid.uuid5(_NAMESPACE, event_id)


def is_transient(exc: BaseException) -> bool:
    """True for errors of the world (retry later), False for errors of the message (DLQ)."""
    if isinstance(exc, OSError | TimeoutError | KafkaError | asyncpg.PostgresConnectionError):
        return True
    if isinstance(exc, asyncpg.exceptions.CannotConnectNowError | asyncpg.TooManyConnectionsError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        # serialization failure, deadlock, admin shutdown, cannot connect now
        if code in {"40001", "40P01", "57P01", "57P03"}:
            return True
        return is_transient(exc.orig) if exc.orig is not None else False
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.InterfaceError):
        return True
    return isinstance(exc.__cause__, BaseException) and is_transient(exc.__cause__)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        if self.owner.on_revoked and revoked:
            await self.owner.on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self.owner.export_assignment(set(assigned))
        self.owner.joined = True
        if self.owner.on_assigned and assigned:
            await self.owner.on_assigned(set(assigned))


class EventConsumer:
    """One consumer group member applying events of ``topics`` with ``handlers``."""

    def __init__(
        self,
        *,
        service: str,
        name: str,
        topics: Iterable[str],
        handlers: Mapping[str, Handler],
        sessionmaker: async_sessionmaker[AsyncSession],
        processed: Table,
        producer: AIOKafkaProducer,
        bootstrap: str,
        group_id: str,
        on_assigned: PartitionHook | None = None,
        on_revoked: PartitionHook | None = None,
    ) -> None:
        self.service = service
        self.name = name
        self.topics = list(topics)
        self.handlers = dict(handlers)
        self.maker = sessionmaker
        self.processed = processed
        self.producer = producer
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.on_assigned = on_assigned
        self.on_revoked = on_revoked
        self.consumer: AIOKafkaConsumer | None = None
        # True once the group has given this member its partitions (possibly none): until
        # then it applies nothing and owns no timers, so the service is not ready.
        self.joined = False

    async def run(self) -> None:
        consumer = await self._start()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                if not batch:
                    continue
                await asyncio.gather(*(self._partition(tp, msgs) for tp, msgs in batch.items()))
                offsets = {tp: msgs[-1].offset + 1 for tp, msgs in batch.items()}
                try:
                    await consumer.commit(offsets)
                except KafkaError:
                    # Lost the partitions in a rebalance: the next owner redelivers, and the
                    # processed-events table makes that harmless.
                    log.warning("offset commit failed; redelivery will be deduplicated")
                owned = consumer.assignment()
                for tp, msgs in batch.items():
                    if tp not in owned:
                        continue  # revoked during this batch: its high watermark is gone
                    lag = (consumer.highwater(tp) or 0) - (msgs[-1].offset + 1)
                    metrics.CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(
                        max(lag, 0)
                    )
        finally:
            await consumer.stop()

    def export_assignment(self, assigned: set[TopicPartition]) -> None:
        """After a rebalance, this replica owns exactly ``assigned`` (the metric shows it)."""
        for topic in self.topics:
            count = sum(1 for tp in assigned if tp.topic == topic)
            metrics.CONSUMER_ASSIGNED.labels(self.service, topic).set(count)

    async def _start(self) -> AIOKafkaConsumer:
        self.joined = False
        delay = 0.5
        while True:
            # A fresh client each time: a stopped aiokafka consumer cannot be started again.
            consumer = make_consumer(self.bootstrap, self.group_id, f"{self.group_id}-{self.name}")
            try:
                await consumer.start()
                break
            except KafkaError:
                log.warning("kafka not reachable for consumer %s; retrying", self.name)
                await consumer.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
        consumer.subscribe(self.topics, listener=_Listener(self))
        self.consumer = consumer
        return consumer

    async def _partition(
        self, tp: TopicPartition, msgs: list[ConsumerRecord[bytes, bytes]]
    ) -> None:
        for msg in msgs:
            start = time.perf_counter()
            outcome = await self._one(msg)
            metrics.CONSUMER_MESSAGES.labels(self.service, msg.topic, outcome).inc()
            metrics.CONSUMER_PROCESSING.labels(self.service, msg.topic).observe(
                time.perf_counter() - start
            )

    async def _one(self, msg: ConsumerRecord[bytes, bytes]) -> str:
        try:
            envelope = decode(msg.value)
        except MalformedMessage as exc:
            await self.dead_letter(msg, str(exc))
            return "dlq"
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return "ignored"
        token = correlation_id.set(envelope.correlationid or envelope.id)
        try:
            try:
                data = payload(envelope)
            except MalformedMessage as exc:
                await self.dead_letter(msg, str(exc), envelope)
                return "dlq"
            return await self._apply(msg, envelope, data, handler)
        finally:
            correlation_id.reset(token)

    async def _apply(
        self, msg: ConsumerRecord[bytes, bytes], envelope: Envelope, data: Any, handler: Handler
    ) -> str:
        delay = 0.2
        while True:
            try:
                async with self.maker() as session, session.begin():
                    first = await session.execute(
                        insert(self.processed)
                        .values(consumer=self.name, event_id=event_uuid(envelope.id))
                        .on_conflict_do_nothing()
                        .returning(self.processed.c.event_id)
                    )
                    if first.first() is None:
                        return "duplicate"
                    await handler(session, envelope, data, msg)
                return "applied"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_transient(exc):
                    log.warning("transient error on %s, retrying: %s", envelope.type, exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10)
                    continue
                log.exception(
                    "handler failed for %s %s; dead-lettering", envelope.type, envelope.id
                )
                await self.dead_letter(msg, f"{type(exc).__name__}: {exc}", envelope, exc)
                return "dlq"

    async def dead_letter(
        self,
        msg: ConsumerRecord[bytes, bytes],
        error: str,
        envelope: Envelope | None = None,
        exc: BaseException | None = None,
    ) -> None:
        """Park the message with its error in ``<topic>.dlq``; retried until the broker acks."""
        record = {
            "error": error,
            "consumer": self.name,
            "service": self.service,
            "topic": msg.topic,
            "partition": msg.partition,
            "offset": msg.offset,
            "key": msg.key.decode("utf-8", "replace") if msg.key else None,
            "event_id": envelope.id if envelope else None,
            "event_type": envelope.type if envelope else None,
            "failed_at": datetime.now(UTC).isoformat(),
            "value_base64": base64.b64encode(msg.value or b"").decode(),
            "value_text": (msg.value or b"").decode("utf-8", "replace")[:10000],
            "traceback": "".join(traceback.format_exception(exc))[-4000:] if exc else None,
        }
        headers = [("error", error[:500].encode()), ("original-topic", msg.topic.encode())]
        delay = 0.5
        while True:
            try:
                await self.producer.send_and_wait(
                    dlq(msg.topic), orjson.dumps(record), key=msg.key, headers=headers
                )
                break
            except KafkaError:
                log.warning("DLQ publish failed; retrying")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
        metrics.DLQ_MESSAGES.labels(self.service, msg.topic).inc()
        log.error("message dead-lettered to %s: %s", dlq(msg.topic), error)
