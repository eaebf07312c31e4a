"""The sla service's timers: one per ticket, owned with the ticket's Kafka partition.

* The wheel holds, for each ticket of an owned `tickets.events` partition, the instant its
  clocks next need attention (the next warning or the breach): `next_due` in the table.
* On assignment the timers of the assigned partitions are loaded from the database (an
  overdue one fires at once, so a restart or a takeover misses nothing); on revocation
  they are dropped. Assignments are whole (eager rebalancing): each one replaces the
  partitions owned before, which also heals a consumer restarted without a revocation.
* A wake hands the due tickets to a worker that fires them in one transaction (rows locked,
  so a replica that still fires a ticket it just lost and its new owner never both emit an
  event). A few workers run at once, so the wheel keeps its schedule while a transaction
  waits on the database; a failed batch is retried a second later.
* A change is (re)scheduled in the commit hook of the transaction that made it: never for
  a state that did not commit, and in commit order. A change made by a ticket event is
  also announced to every replica (`timer_notes`), because during a rebalance the replica
  applying it may no longer own the partition while the new owner has already loaded.
* Timers fire on the wall clock but decide on event time: a timer whose due time is past
  its partition's event-time mark (`watermarks`) is *held*, not fired, until the mark
  passes it, so a pause made before the deadline and still on its way is applied first.
  Fired clocks are computed up to the mark, never beyond (docs/sla-timing.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Hashable, Iterable
from datetime import UTC, datetime, timedelta

from aiokafka import TopicPartition
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from stopclock_shared.db import utc_now
from stopclock_shared.outbox import Outbox
from stopclock_shared.timers import Timer, TimerWheel
from stopclock_sla.domain import SlaBreached, SlaMet, SlaWarning

from . import metrics, service
from . import repository as repo
from .catalog import Catalog
from .service import Saved
from .timer_notes import TimerNote
from .watermarks import ConsumerView, Watermarks, sample

log = logging.getLogger(__name__)
_ONE_US = timedelta(microseconds=1)


class SlaTimers:
    """Partition-owned SLA timers of one replica."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        catalog: Catalog,
        tickets_topic: str,
        events_topic: str,
        marks: Watermarks,
        workers: int = 4,
        batch: int = 100,
    ) -> None:
        self.engine = engine
        self.maker = sessionmaker
        self.outbox = outbox
        self.catalog = catalog
        self.tickets_topic = tickets_topic
        self.events_topic = events_topic
        # Small batches: a batch is CPU work on the one event loop, and the outbox relay,
        # the consumer and the wheel itself must get their turn in between.
        self.wheel = TimerWheel(self._fire, lag=metrics.TIMER_LAG, batch=batch)
        self._batch_size = batch
        self.owned: set[int] = set()
        self.marks = marks
        # Due timers waiting for their partition's event-time mark to pass their due time.
        self.held: dict[Hashable, Timer] = {}
        self._workers = asyncio.Semaphore(workers)
        self._batches: set[asyncio.Task[None]] = set()
        # Keys (re)scheduled while a load runs: the load's older reading must not win.
        self._loads = 0
        self._touched: set[str] = set()

    def __len__(self) -> int:
        return len(self.wheel) + len(self.held)

    async def run(self) -> None:
        """The timer loop (a background task of the process)."""
        try:
            await self.wheel.run()
        finally:
            for batch in list(self._batches):
                batch.cancel()

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Own exactly these partitions: drop the others' timers, load these from the DB."""
        parts = {tp.partition for tp in assigned if tp.topic == self.tickets_topic}
        stale = self.owned - parts
        if stale:
            self.wheel.drop_partitions(stale)
        self.owned = set(parts)
        # A partition new to this replica has no mark until it is seen caught up.
        self.marks.own(parts)
        self._unhold(stale)
        await self._load(parts)

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        """Forget the timers of partitions given away (their new owner loads them)."""
        parts = {tp.partition for tp in revoked if tp.topic == self.tickets_topic}
        self.owned -= parts
        self.marks.drop(parts)
        self._unhold(parts)
        dropped = self.wheel.drop_partitions(parts)
        log.info("sla timers: %d dropped for revoked partitions %s", dropped, sorted(parts))

    async def _load(self, parts: set[int]) -> None:
        if not parts:
            return
        started = time.perf_counter()
        self._loads += 1
        try:
            async with self.maker() as session:
                rows = await repo.pending_timers(session, parts)
            loaded = 0
            for ticket_id, partition, next_due in rows:
                key = str(ticket_id)
                if partition in self.owned and key not in self._touched:
                    self.wheel.schedule(key, next_due, partition)
                    loaded += 1
        finally:
            self._loads -= 1
            if not self._loads:
                self._touched.clear()
        log.info(
            "sla timers: %d loaded for partitions %s in %.3f s",
            loaded,
            sorted(parts),
            time.perf_counter() - started,
        )

    def after_commit(self, session: AsyncSession, saved: Iterable[Saved]) -> None:
        """Reschedule and count once `session`'s transaction has committed."""
        done = list(saved)
        event.listen(session.sync_session, "after_commit", lambda _s: self.settle(done), once=True)

    def settle(self, saved: Iterable[Saved]) -> None:
        """Apply committed changes: the tickets' next timers and the event counters."""
        for s in saved:
            _count(s)
            self._set(s.ticket_id, s.partition, s.next_due)

    def _set(self, key: str, partition: int, due: datetime | None) -> None:
        if self._loads:
            self._touched.add(key)
        self.held.pop(key, None)  # the newer state decides
        if due is None or partition not in self.owned:
            self.wheel.cancel(key)
        else:
            self.wheel.schedule(key, due, partition)

    async def listen(self, keepalive: float = 15.0) -> None:
        """Follow the timer notes of every replica (a background task; restarted on error).

        Notes missed while not listening are recovered by reloading the owned partitions
        once the listener is back.
        """
        async with self.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            pg = raw.driver_connection
            assert pg is not None
            await pg.add_listener(repo.TIMERS_CHANNEL, self._on_note)
            try:
                await self._load(set(self.owned))
                while True:
                    await asyncio.sleep(keepalive)
                    await pg.fetchval("SELECT 1")  # a dead connection raises: restart
            finally:
                # Never hand a listening connection back to the pool.
                await conn.invalidate()

    def _on_note(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            note = TimerNote.decode(payload)
        except ValueError:
            log.warning("ignoring a malformed timer note %r", payload)
            return
        self._set(note.ticket_id, note.partition, note.due)

    async def follow_marks(self, consumer: ConsumerView, interval: float = 0.05) -> None:
        """Move the partitions' event-time marks and release the timers they pass (a
        background task). A sample reads in-memory consumer state only."""
        while True:
            moved = await sample(self.marks, consumer, self.tickets_topic, time.time())
            if moved:
                await self.release(moved)
            await asyncio.sleep(interval)

    async def release(self, partitions: set[int]) -> None:
        """Fire the held timers of `partitions` that their marks now pass, in due order."""
        ready = sorted(
            (t for t in self.held.values() if t.partition in partitions and self._decidable(t)),
            key=lambda t: t.due,
        )
        if not ready:
            return
        now = time.time()
        for t in ready:
            del self.held[t.key]
            metrics.TIMER_HOLD.observe(max(0.0, now - t.due))
        for i in range(0, len(ready), self._batch_size):
            await self._start_batch(ready[i : i + self._batch_size])

    def _decidable(self, timer: Timer) -> bool:
        mark = self.marks.mark(timer.partition)
        return mark is not None and mark >= timer.due_at + _ONE_US

    def _unhold(self, partitions: set[int]) -> None:
        for key in [k for k, t in self.held.items() if t.partition in partitions]:
            del self.held[key]

    def horizon(self, partition: int, now: datetime) -> datetime | None:
        """How far the clocks of a ticket of `partition` may be decided at `now` (the
        partition's mark, at most `now`); None when this replica cannot tell."""
        mark = self.marks.mark(partition) if partition in self.owned else None
        return None if mark is None else min(now, mark)

    async def _fire(self, timers: list[Timer]) -> list[Timer]:
        ready: list[Timer] = []
        for t in timers:
            if self._decidable(t):
                ready.append(t)
                metrics.TIMER_HOLD.observe(0.0)
            elif t.partition in self.owned:
                self.held[t.key] = t
        if ready:
            await self._start_batch(ready)
        return []

    async def _start_batch(self, timers: list[Timer]) -> None:
        # Back-pressure: with every worker busy the wheel waits (and its lag shows it).
        await self._workers.acquire()
        batch = asyncio.create_task(self._fire_batch(timers))
        self._batches.add(batch)
        batch.add_done_callback(self._batch_done)

    def _batch_done(self, batch: asyncio.Task[None]) -> None:
        self._batches.discard(batch)
        self._workers.release()

    async def _fire_batch(self, timers: list[Timer]) -> None:
        # Never earlier than the latest due time: float rounding must not make a due
        # timer find nothing to do (it would be rescheduled at once, forever).
        latest = datetime.fromtimestamp(max(t.due for t in timers), UTC) + _ONE_US
        now = max(utc_now(), latest)
        try:
            async with self.maker() as session, session.begin():
                saved = await service.fire_due(
                    session,
                    self.outbox,
                    self.catalog,
                    [str(t.key) for t in timers],
                    now,
                    lambda partition: self.horizon(partition, now),
                    topic=self.events_topic,
                )
                self.after_commit(session, saved)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("firing %d sla timers failed; retrying in 1 s", len(timers))
            retry = time.time() + 1.0
            for t in timers:
                if self.wheel.due_of(t.key) is None and t.partition in self.owned:
                    self.wheel.schedule(t.key, retry, t.partition)


def _count(saved: Saved) -> None:
    if saved.late:
        metrics.LATE_FACTS.inc()
    for e in saved.events:
        if isinstance(e, SlaWarning):
            metrics.WARNINGS.labels(e.target).inc()
        elif isinstance(e, SlaBreached):
            metrics.BREACHES.labels(e.target, saved.priority).inc()
        elif isinstance(e, SlaMet):
            metrics.MET.labels(e.target).inc()
