"""The timers of the Kafka partitions a replica owns: one keeper for every service with timers.

A service keeps a timer per key (a ticket, an episode) in the wheel (`timers.TimerWheel`)
for the keys of the partitions of one topic that its consumer owns:

* On assignment the partitions' timers are loaded through the service's `load` callback (an
  overdue one fires at once, so a restart or a takeover misses nothing). Assignments are
  whole (eager rebalancing): each replaces the partitions owned before, which also heals a
  consumer restarted without a revocation. On revocation the partitions' timers are dropped;
  their new owner loads them.
* A change is applied once its transaction has committed (`apply_after_commit`): never for
  a state that did not commit, and in commit order. A change committed while a load runs
  wins over the load's older reading of the same key.
* Due timers go to the service's `fire` callback in batches, on a few worker tasks, so the
  wheel keeps its schedule while a transaction waits on the database; with every worker
  busy the wheel waits (and its lag shows it). `fire` returns the timers that failed (or
  raises): they are retried a second later unless changed meanwhile or given away.
* An optional `ready` gate lets a due timer wait (be *held*) until `release` finds it ready,
  e.g. the sla service's event-time marks (docs/sla-timing.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from datetime import datetime
from typing import NamedTuple

from aiokafka import TopicPartition
from prometheus_client import Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from .db import after_commit
from .timers import Timer, TimerWheel

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0


class NextDue(NamedTuple):
    """A key's committed next due time in its partition (None: nothing due any more)."""

    key: Hashable
    partition: int
    due: datetime | float | None


Loader = Callable[[set[int]], Awaitable[Iterable[tuple[Hashable, int, datetime | float | None]]]]
"""Partitions -> (key, partition, due) of their pending timers, from the service's database
(plain tuples are fine: a load may bring 100k of them)."""
Firer = Callable[[list[Timer]], Awaitable[Iterable[Timer]]]
"""Due timers (one batch, due order) -> the ones that failed and are to be retried."""
Gate = Callable[[Timer], bool]
"""May this due timer fire now? (False: hold it until `release` finds it ready.)"""


class PartitionTimers:
    """The timers of the owned partitions of ``topic``; ``on_assigned``/``on_revoked`` are
    the consumer's partition hooks, ``run`` the background task. A service's timers may
    subclass it to add their own ways in (the sla service's notes and event-time marks).

    ``keep_unowned``: a committed change of a partition this replica does not own is still
    scheduled (firing twice must then be harmless: the new owner may have loaded before the
    commit) instead of cancelled (when the owner learns of it otherwise).
    """

    def __init__(
        self,
        name: str,
        topic: str,
        load: Loader,
        fire: Firer,
        *,
        lag: Histogram | None = None,
        batch: int = 500,
        workers: int = 1,
        keep_unowned: bool = False,
        ready: Gate | None = None,
        held_for: Histogram | None = None,
        scheduled: Gauge | None = None,
    ) -> None:
        # Ownership and loading.
        self.name = name
        self.topic = topic
        self.owned: set[int] = set()
        self._load_fn = load
        # Keys set while a load runs: the load's older reading must not win.
        self._loads = 0
        self._touched: set[Hashable] = set()
        # Firing.
        self._fire_fn = fire
        self._batch = batch
        self._keep_unowned = keep_unowned
        self.wheel = TimerWheel(self._on_due, lag=lag, batch=batch)
        self._workers = asyncio.Semaphore(workers)
        self._batches: set[asyncio.Task[None]] = set()
        # Holding: due timers waiting for the gate to let them through.
        self._ready = ready
        self._held_for = held_for
        self.held: dict[Hashable, Timer] = {}
        if scheduled is not None:
            scheduled.set_function(lambda: len(self))

    def __len__(self) -> int:
        return len(self.wheel) + len(self.held)

    def due_of(self, key: Hashable) -> float | None:
        """When ``key`` is scheduled (epoch seconds); None when not (or held)."""
        return self.wheel.due_of(key)

    def partitions_of(self, tps: Iterable[TopicPartition]) -> set[int]:
        return {tp.partition for tp in tps if tp.topic == self.topic}

    # --- ownership ------------------------------------------------------------------------

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Own exactly these partitions: drop the others' timers, load these."""
        parts = self.partitions_of(assigned)
        stale = self.owned - parts
        if stale:
            self._forget(stale)
        self.owned = parts
        await self._load(parts)

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        """Forget the timers of partitions given away (their new owner loads them)."""
        parts = self.partitions_of(revoked)
        if not parts:
            return
        self.owned -= parts
        dropped = self._forget(parts)
        log.info(
            "%s timers: %d dropped for revoked partitions %s", self.name, dropped, sorted(parts)
        )

    async def reload(self) -> None:
        """Load the owned partitions again (e.g. after changes may have been missed)."""
        await self._load(set(self.owned))

    def _forget(self, parts: set[int]) -> int:
        for key in [k for k, t in self.held.items() if t.partition in parts]:
            del self.held[key]
        return self.wheel.drop_partitions(parts)

    async def _load(self, parts: set[int]) -> None:
        if not parts:
            return
        started = time.perf_counter()
        loaded = 0
        self._loads += 1
        try:
            entries = await self._load_fn(parts)
            owned, touched, schedule = self.owned, self._touched, self.wheel.schedule
            for key, partition, due in entries:
                if due is not None and partition in owned and key not in touched:
                    schedule(key, due, partition)
                    loaded += 1
        finally:
            self._loads -= 1
            if not self._loads:
                self._touched.clear()
        log.info(
            "%s timers: %d loaded for partitions %s in %.3f s",
            self.name,
            loaded,
            sorted(parts),
            time.perf_counter() - started,
        )

    # --- committed changes ----------------------------------------------------------------

    def apply_after_commit(self, session: AsyncSession, changes: Iterable[NextDue]) -> None:
        """Apply ``changes`` once ``session``'s transaction has committed (never on rollback)."""
        done = list(changes)
        after_commit(session, lambda: self.apply(done))

    def apply(self, changes: Iterable[NextDue]) -> None:
        """Apply changes of a transaction that has committed."""
        for key, partition, due in changes:
            self.set_due(key, partition, due)

    def set_due(self, key: Hashable, partition: int, due: datetime | float | None) -> None:
        """``key``'s next due time is now ``due`` (None: cancel): the newer state decides."""
        if self._loads:
            self._touched.add(key)
        self.held.pop(key, None)
        if due is None or not (self._keep_unowned or partition in self.owned):
            self.wheel.cancel(key)
        else:
            self.wheel.schedule(key, due, partition)

    def cancel(self, key: Hashable) -> None:
        if self._loads:
            self._touched.add(key)
        self.held.pop(key, None)
        self.wheel.cancel(key)

    # --- firing ---------------------------------------------------------------------------

    async def run(self) -> None:
        """The timer loop (a background task of the process)."""
        try:
            await self.wheel.run()
        finally:
            for batch in list(self._batches):
                batch.cancel()

    async def _on_due(self, timers: list[Timer]) -> list[Timer]:
        if self._ready is None:
            await self.dispatch(timers)
            return []
        ready: list[Timer] = []
        for t in timers:
            if self._ready(t):
                ready.append(t)
            elif t.partition in self.owned:
                self.held[t.key] = t
        if self._held_for is not None:
            for _ in ready:
                self._held_for.observe(0.0)
        if ready:
            await self.dispatch(ready)
        return []

    async def release(self, partitions: set[int]) -> None:
        """Fire the held timers of ``partitions`` that the gate now lets through, in due order."""
        gate = self._ready
        if gate is None:
            return
        ready = sorted(
            (t for t in self.held.values() if t.partition in partitions and gate(t)),
            key=lambda t: t.due,
        )
        if not ready:
            return
        now = time.time()
        for t in ready:
            del self.held[t.key]
            if self._held_for is not None:
                self._held_for.observe(max(0.0, now - t.due))
        for i in range(0, len(ready), self._batch):
            await self.dispatch(ready[i : i + self._batch])

    async def dispatch(self, timers: list[Timer]) -> None:
        """Hand one batch to a worker (waiting for a free one: back-pressure on the wheel)."""
        await self._workers.acquire()
        batch = asyncio.create_task(self._fire_batch(timers))
        self._batches.add(batch)
        batch.add_done_callback(self._batch_done)

    def _batch_done(self, batch: asyncio.Task[None]) -> None:
        self._batches.discard(batch)
        self._workers.release()

    async def _fire_batch(self, timers: list[Timer]) -> None:
        try:
            failed = list(await self._fire_fn(timers))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "firing %d %s timers failed; retrying in %g s",
                len(timers),
                self.name,
                RETRY_SECONDS,
            )
            failed = timers
        self.retry(failed)

    def retry(self, timers: Iterable[Timer]) -> None:
        """Fire these again a second from now, unless changed meanwhile or given away."""
        when = time.time() + RETRY_SECONDS
        for t in timers:
            if self.wheel.due_of(t.key) is not None or t.key in self.held:
                continue  # a newer change decides
            if self._keep_unowned or t.partition in self.owned:
                self.wheel.schedule(t.key, when, t.partition)
