"""The in-memory timer wheel: timers fire at their due time, no polling sweep.

One asyncio task sleeps until the earliest due time; scheduling an earlier timer wakes it.
Each fire records its lag (fired - due). Memory: one heap entry and one dict entry per
timer. Which timers a replica holds (those of the Kafka partitions it owns), and how they
are loaded, changed and fired, is `partition_timers.PartitionTimers`'s business.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import Histogram

log = logging.getLogger(__name__)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass(frozen=True, slots=True)
class Timer:
    """A due timer as the wheel hands it out: whose (``key``), when, and of which partition."""

    key: Hashable
    due: float  # epoch seconds
    partition: int

    @property
    def due_at(self) -> datetime:
        return datetime.fromtimestamp(self.due, UTC)


FireFn = Callable[[list[Timer]], Awaitable[Iterable[Timer]]]


class TimerWheel:
    """Timers keyed by ``key`` (one live timer per key; scheduling again replaces it).

    ``fire`` receives the due timers in due order and returns the ones that failed
    (retried one second later), so a transient database error never loses a timer.
    """

    def __init__(self, fire: FireFn, lag: Histogram | None = None, batch: int = 500) -> None:
        self._fire = fire
        self._lag = lag
        self._batch = batch
        self._heap: list[tuple[float, int, Hashable]] = []
        self._live: dict[Hashable, tuple[float, int, int]] = {}  # key -> (due, seq, partition)
        self._seq = itertools.count()
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._live)

    def schedule(self, key: Hashable, due: datetime | float, partition: int) -> None:
        when = due.timestamp() if isinstance(due, datetime) else float(due)
        seq = next(self._seq)
        self._live[key] = (when, seq, partition)
        heapq.heappush(self._heap, (when, seq, key))
        if self._heap[0][1] == seq:
            self._wake.set()  # new earliest timer: re-arm the sleeper
        if len(self._heap) > 2 * len(self._live) + 1024:
            self._compact()

    def cancel(self, key: Hashable) -> None:
        self._live.pop(key, None)  # the heap entry is skipped lazily

    def due_of(self, key: Hashable) -> float | None:
        entry = self._live.get(key)
        return entry[0] if entry else None

    def drop_partitions(self, partitions: Iterable[int]) -> int:
        gone = set(partitions)
        keys = [k for k, (_, _, p) in self._live.items() if p in gone]
        for key in keys:
            del self._live[key]
        self._compact()
        return len(keys)

    def _compact(self) -> None:
        self._heap = [(d, s, k) for k, (d, s, _) in self._live.items()]
        heapq.heapify(self._heap)

    def _pop_due(self, now: float) -> list[Timer]:
        due: list[Timer] = []
        while self._heap and self._heap[0][0] <= now and len(due) < self._batch:
            when, seq, key = heapq.heappop(self._heap)
            entry = self._live.get(key)
            if entry is None or entry[1] != seq:
                continue  # cancelled or replaced
            del self._live[key]
            due.append(Timer(key, when, entry[2]))
        return due

    def _next_due(self) -> float | None:
        while self._heap:
            when, seq, key = self._heap[0]
            entry = self._live.get(key)
            if entry is not None and entry[1] == seq:
                return when
            heapq.heappop(self._heap)
        return None

    async def run(self) -> None:
        while True:
            self._wake.clear()
            nxt = self._next_due()
            now = time.time()
            if nxt is None or nxt > now:
                timeout = None if nxt is None else nxt - now
                try:
                    # asyncio.timeout, not wait_for (see OutboxRelay): cancellation must win.
                    async with asyncio.timeout(timeout):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                continue
            timers = self._pop_due(now)
            if not timers:
                continue
            fired_at = time.time()
            if self._lag is not None:
                for t in timers:
                    self._lag.observe(max(0.0, fired_at - t.due))
            try:
                failed = list(await self._fire(timers))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer batch failed; retrying in 1 s")
                failed = timers
            for t in failed:
                if t.key not in self._live:
                    self.schedule(t.key, time.time() + 1.0, t.partition)
