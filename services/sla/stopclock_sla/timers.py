"""The sla service's timers: one per ticket, owned with the ticket's Kafka partition.

* The wheel holds, for each ticket of an owned `tickets.events` partition, the instant its
  clocks next need attention (the next warning or the breach): `next_due` in the table.
* Ownership, loading, the race of a load with a commit, firing on a few workers and the
  retry of a failed batch are the shared keeper's (`stopclock_shared.partition_timers`).
* A batch of due tickets fires in one transaction (rows locked, so a replica that still
  fires a ticket it just lost and its new owner never both emit an event).
* A change is (re)scheduled in the commit hook of the transaction that made it. A change
  made by a ticket event is also announced to every replica (`timer_notes`), because
  during a rebalance the replica applying it may no longer own the partition while the new
  owner has already loaded; a change of a partition not owned here is cancelled.
* Timers fire on the wall clock but decide on event time: a timer whose due time is past
  its partition's event-time mark (`watermarks`) is *held*, not fired, until the mark
  passes it, so a pause made before the deadline and still on its way is applied first.
  Fired clocks are computed up to the mark, never beyond (docs/sla-timing.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from aiokafka import TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from stopclock_shared.db import after_commit, utc_now
from stopclock_shared.outbox import Outbox
from stopclock_shared.partition_timers import PartitionTimers
from stopclock_shared.timers import Timer
from stopclock_sla.domain import SlaBreached, SlaMet, SlaWarning

from . import metrics
from . import repository as repo
from .timer_notes import TimerNote
from .use_cases import Saved, fire_due
from .version_cache import VersionCache
from .watermarks import ConsumerView, Watermarks, sample

log = logging.getLogger(__name__)
_ONE_US = timedelta(microseconds=1)
# Small batches: a batch is CPU work on the one event loop, and the outbox relay, the
# consumer and the wheel itself must get their turn in between. A few run at once.
BATCH = 100
WORKERS = 4


class SlaTimers(PartitionTimers):
    """Partition-owned SLA timers of one replica, held by event-time marks."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        cache: VersionCache,
        *,
        tickets_topic: str,
        events_topic: str,
        marks: Watermarks,
    ) -> None:
        self.engine = engine
        self.maker = sessionmaker
        self.outbox = outbox
        super().__init__(
            "sla",
            tickets_topic,
            self._pending,
            self._fire_due,
            lag=metrics.TIMER_LAG,
            batch=BATCH,
            workers=WORKERS,
            ready=self._decidable,
            held_for=metrics.TIMER_HOLD,
        )
        self.cache = cache
        self.events_topic = events_topic
        # The partitions' event-time marks: a due timer is held until its mark passes it.
        self.marks = marks

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Own exactly these partitions: drop the others' timers, load these from the DB."""
        # A partition new to this replica has no mark until it is seen caught up; set
        # before the load, during which the wheel may already fire.
        self.marks.own(self.partitions_of(assigned))
        await super().on_assigned(assigned)

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        """Forget the timers of partitions given away (their new owner loads them)."""
        self.marks.drop(self.partitions_of(revoked))
        await super().on_revoked(revoked)

    async def _pending(self, parts: set[int]) -> Iterable[tuple[str, int, datetime]]:
        async with self.maker() as session:
            rows = await repo.pending_timers(session, parts)
        return ((str(ticket_id), partition, due) for ticket_id, partition, due in rows)

    def after_commit(self, session: AsyncSession, saved: Iterable[Saved]) -> None:
        """Reschedule and count once `session`'s transaction has committed."""
        done = list(saved)
        after_commit(session, lambda: self.settle(done))

    def settle(self, saved: Iterable[Saved]) -> None:
        """Apply committed changes: the tickets' next timers and the event counters."""
        for s in saved:
            _count(s)
            self.set_due(s.ticket_id, s.partition, s.next_due)

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
                await self.reload()
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
        self.set_due(note.ticket_id, note.partition, note.due)

    async def follow_marks(self, consumer: ConsumerView, interval: float = 0.05) -> None:
        """Move the partitions' event-time marks and release the timers they pass (a
        background task). A sample reads in-memory consumer state only."""
        while True:
            moved = await sample(self.marks, consumer, self.topic, time.time())
            if moved:
                await self.release(moved)
            await asyncio.sleep(interval)

    def _decidable(self, timer: Timer) -> bool:
        mark = self.marks.mark(timer.partition)
        return mark is not None and mark >= timer.due_at + _ONE_US

    def horizon(self, partition: int, now: datetime) -> datetime | None:
        """How far the clocks of a ticket of `partition` may be decided at `now` (the
        partition's mark, at most `now`); None when this replica cannot tell."""
        mark = self.marks.mark(partition) if partition in self.owned else None
        return None if mark is None else min(now, mark)

    async def _fire_due(self, timers: list[Timer]) -> list[Timer]:
        # Never earlier than the latest due time: float rounding must not make a due
        # timer find nothing to do (it would be rescheduled at once, forever).
        latest = datetime.fromtimestamp(max(t.due for t in timers), UTC) + _ONE_US
        now = max(utc_now(), latest)
        async with self.maker() as session, session.begin():
            saved = await fire_due(
                repo.unit_of_work(session, self.outbox),
                self.cache,
                [str(t.key) for t in timers],
                now,
                lambda partition: self.horizon(partition, now),
                topic=self.events_topic,
            )
            self.after_commit(session, saved)
        return []  # a failure raises: the keeper retries the whole batch


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
