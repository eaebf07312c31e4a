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
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from sqlalchemy import Table, bindparam
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from . import metrics
from .event_routes import Delivery, Route, Routes
from .events.codec import MalformedMessage, decode
from .events.envelope import Envelope
from .events.topics import dlq
from .kafka import make_consumer
from .logs import correlation_id

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope, Any, ConsumerRecord[bytes, bytes]], Awaitable[None]]
PartitionHook = Callable[[set[TopicPartition]], Awaitable[None]]
COMMIT_INTERVAL = 0.5  # seconds between offset commits while events keep coming
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


@dataclass(frozen=True, slots=True)
class _Work:
    """A decoded message with a handler: what one event's application needs."""

    msg: ConsumerRecord[bytes, bytes]
    envelope: Envelope
    data: Any
    handler: Handler
    event_id: uuid.UUID


def _calls(routes: Routes) -> dict[str, tuple[Route, Handler]]:
    """Event type -> (its route, the call the consumer makes inside the transaction)."""
    table: dict[str, tuple[Route, Handler]] = {}
    for type_ in routes.types:
        route = routes.get(type_)
        assert route is not None
        table[type_] = (route, _typed_call(route))
    return table


def _typed_call(route: Route) -> Handler:
    async def call(
        session: AsyncSession, envelope: Envelope, data: Any, msg: ConsumerRecord[bytes, bytes]
    ) -> None:
        await route.handler(data, Delivery(session, envelope, msg.partition))

    return call


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self.owner.commit_pending(set(revoked))  # the next owner starts after them
        if self.owner.on_revoked and revoked:
            await self.owner.on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self.owner.export_assignment(set(assigned))
        self.owner.joined = True
        if self.owner.on_assigned and assigned:
            await self.owner.on_assigned(set(assigned))


class EventConsumer:
    """One consumer group member applying events of ``topics`` with ``routes``."""

    def __init__(
        self,
        *,
        service: str,
        name: str,
        topics: Iterable[str],
        routes: Routes,
        sessionmaker: async_sessionmaker[AsyncSession],
        processed: Table,
        producer: AIOKafkaProducer,
        bootstrap: str,
        group_id: str,
        on_assigned: PartitionHook | None = None,
        on_revoked: PartitionHook | None = None,
        fetch_max_wait_ms: int = 500,
    ) -> None:
        self.service = service
        self.name = name
        self.topics = list(topics)
        # Each type's payload is decoded by its contract model, then handed to its handler.
        self.handlers = _calls(routes)
        self.maker = sessionmaker
        self.processed = processed
        # Built once; the event id is recorded in the transaction that applies the event.
        record = (
            insert(processed)
            .values(consumer=name, event_id=bindparam("event_id"))
            .on_conflict_do_nothing()
        )
        self._record = record.returning(processed.c.event_id)
        self.producer = producer
        # A fresh client at each (re)start: a stopped aiokafka consumer cannot start again.
        self._new_client = partial(
            make_consumer,
            bootstrap,
            group_id,
            f"{group_id}-{name}",
            fetch_max_wait_ms=fetch_max_wait_ms,
        )
        self.on_assigned = on_assigned
        self.on_revoked = on_revoked
        self.consumer: AIOKafkaConsumer | None = None
        # True once the group has given this member its partitions (possibly none): until
        # then it applies nothing and owns no timers, so the service is not ready.
        self.joined = False
        self._pending: dict[TopicPartition, int] = {}
        self._committed_at = time.monotonic()
        # First offset per partition of the poll being applied (see `applied_position`).
        self._applying: dict[TopicPartition, int] = {}

    async def run(self) -> None:
        consumer = await self._start()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                if not batch:
                    await self.commit_pending()
                    continue
                # Set before any await: getmany has already moved the positions past them.
                self._applying = {tp: msgs[0].offset for tp, msgs in batch.items()}
                try:
                    await self._batch([m for msgs in batch.values() for m in msgs])
                finally:
                    self._applying = {}
                self._pending.update({tp: msgs[-1].offset + 1 for tp, msgs in batch.items()})
                if time.monotonic() - self._committed_at >= COMMIT_INTERVAL:
                    await self.commit_pending()
                owned = consumer.assignment()
                for tp, msgs in batch.items():
                    if tp not in owned:
                        continue  # revoked during this batch: its high watermark is gone
                    lag = (consumer.highwater(tp) or 0) - (msgs[-1].offset + 1)
                    metrics.CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(
                        max(lag, 0)
                    )
        finally:
            try:  # best effort: whatever is not committed is redelivered and skipped
                async with asyncio.timeout(5):
                    await self.commit_pending()
            except (TimeoutError, KafkaError, asyncio.CancelledError):
                log.warning("final offset commit skipped; redelivery will be deduplicated")
            await consumer.stop()

    async def commit_pending(self, only: set[TopicPartition] | None = None) -> None:
        """Commit the offsets of applied polls (of ``only`` these partitions).

        Offsets are committed after the transactions, at most every ``COMMIT_INTERVAL``, on
        an idle poll, before partitions are revoked and at stop: one commit request per
        poll cost the broker and the consumer more than the events themselves. A crash
        redelivers at most that interval's events, which the processed-events table skips.
        """
        offsets = {tp: o for tp, o in self._pending.items() if only is None or tp in only}
        if not offsets or self.consumer is None:
            return
        for tp in offsets:
            del self._pending[tp]
        self._committed_at = time.monotonic()
        try:
            await self.consumer.commit(offsets)
        except KafkaError:
            # Lost the partitions in a rebalance: the next owner redelivers, and the
            # processed-events table makes that harmless.
            log.warning("offset commit failed; redelivery will be deduplicated")

    async def applied_position(self, tp: TopicPartition) -> int | None:
        """The offset below which every record of ``tp`` has been applied (committed),
        ignored or parked; None while unknown (not assigned, or not fetched yet).

        Compared with ``consumer.highwater(tp)`` it tells whether this member is caught up
        with what the broker had at its last fetch answer (the sla service's event-time
        watermarks). Records of a poll still being applied do not count.
        """
        consumer = self.consumer
        if consumer is None or tp not in consumer.assignment():
            return None
        if tp in self._applying:
            return self._applying[tp]
        if consumer.highwater(tp) is None:
            return None  # no fetch answer yet: the position may not be known either
        # Returns at once (no suspension) once the partition has a valid position.
        position: int = await consumer.position(tp)
        return position

    def export_assignment(self, assigned: set[TopicPartition]) -> None:
        """After a rebalance, this replica owns exactly ``assigned`` (the metric shows it)."""
        for topic in self.topics:
            count = sum(1 for tp in assigned if tp.topic == topic)
            metrics.CONSUMER_ASSIGNED.labels(self.service, topic).set(count)

    async def _start(self) -> AIOKafkaConsumer:
        self.joined = False
        delay = 0.5
        while True:
            consumer = self._new_client()
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

    async def _batch(self, msgs: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Apply one poll's events in one transaction (a partition's order kept).

        One commit per poll instead of one per event is what lets a replica keep up under
        load. If any handler fails for a reason of the message, the transaction is rolled
        back and the poll is applied event by event, so only the bad event is dead-lettered.
        """
        start = time.perf_counter()
        outcomes: list[tuple[ConsumerRecord[bytes, bytes], str]] = []
        work: list[_Work] = []
        for msg in msgs:
            decoded = await self._decode(msg)
            if isinstance(decoded, str):
                outcomes.append((msg, decoded))
            else:
                work.append(decoded)
        if len(work) == 1:
            outcomes.append((work[0].msg, await self._apply(work[0])))
        elif work:
            applied = await self._apply_together(work)
            if isinstance(applied, Exception):
                log.info("a poll of %d events failed together; applying one by one", len(work))
                outcomes.extend([(w.msg, await self._apply(w)) for w in work])
            else:
                outcomes.extend(applied)
        each = (time.perf_counter() - start) / max(len(msgs), 1)
        for msg, outcome in outcomes:
            metrics.CONSUMER_MESSAGES.labels(self.service, msg.topic, outcome).inc()
            metrics.CONSUMER_PROCESSING.labels(self.service, msg.topic).observe(each)

    async def _decode(self, msg: ConsumerRecord[bytes, bytes]) -> _Work | str:
        """The envelope, payload and handler of ``msg``, or its outcome if none applies."""
        try:
            envelope = decode(msg.value)
        except MalformedMessage as exc:
            await self.dead_letter(msg, str(exc))
            return "dlq"
        found = self.handlers.get(envelope.type)
        if found is None:
            return "ignored"
        route, handler = found
        try:
            data = route.decode(envelope)
        except MalformedMessage as exc:
            await self.dead_letter(msg, str(exc), envelope)
            return "dlq"
        return _Work(msg, envelope, data, handler, event_uuid(envelope.id))

    async def _apply_together(
        self, work: list[_Work]
    ) -> list[tuple[ConsumerRecord[bytes, bytes], str]] | Exception:
        """All of ``work`` in one transaction, retried while the world fails (database or
        broker away); the exception when an event itself fails (nothing is applied then)."""
        delay = 0.2
        while True:
            outcomes = []
            try:
                async with self.maker() as session, session.begin():
                    rows = await session.execute(
                        self._record, [{"event_id": w.event_id} for w in work]
                    )
                    fresh = set(rows.scalars())
                    for w in work:
                        if w.event_id not in fresh:
                            outcomes.append((w.msg, "duplicate"))
                            continue
                        fresh.discard(w.event_id)  # the same event twice in one poll
                        token = correlation_id.set(w.envelope.correlationid or w.envelope.id)
                        try:
                            await w.handler(session, w.envelope, w.data, w.msg)
                        finally:
                            correlation_id.reset(token)
                        outcomes.append((w.msg, "applied"))
                return outcomes
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not is_transient(exc):
                    return exc
                log.warning("transient error applying %d events, retrying: %s", len(work), exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def _apply(self, w: _Work) -> str:
        """One event alone: applied, a duplicate, or dead-lettered with its error."""
        result = await self._apply_together([w])
        if not isinstance(result, Exception):
            return result[0][1]
        token = correlation_id.set(w.envelope.correlationid or w.envelope.id)
        try:
            log.error(
                "handler failed for %s %s; dead-lettering",
                w.envelope.type,
                w.envelope.id,
                exc_info=result,
            )
            await self.dead_letter(w.msg, f"{type(result).__name__}: {result}", w.envelope, result)
        finally:
            correlation_id.reset(token)
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
