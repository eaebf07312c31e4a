"""The partition-owned timer wheel fires each live timer once, at its due time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from stopclock_shared.timers import Timer, TimerWheel


class Recorder:
    def __init__(self, fail_first: int = 0) -> None:
        self.fired: list[tuple[object, float]] = []
        self.fail_first = fail_first

    async def __call__(self, timers: list[Timer]) -> Iterable[Timer]:
        if self.fail_first:
            self.fail_first -= 1
            return timers
        now = time.time()
        self.fired += [(t.key, now - t.due) for t in timers]
        return []


async def run_for(wheel: TimerWheel, seconds: float) -> None:
    task = asyncio.create_task(wheel.run())
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_timers_fire_in_due_order_close_to_their_due_time() -> None:
    rec = Recorder()
    wheel = TimerWheel(rec)
    now = time.time()
    for i, delay in enumerate([0.20, 0.05, 0.10]):
        wheel.schedule(f"t{i}", now + delay, partition=0)
    await run_for(wheel, 0.4)
    assert [k for k, _ in rec.fired] == ["t1", "t2", "t0"]
    assert all(0 <= lag < 0.05 for _, lag in rec.fired)
    assert len(wheel) == 0


async def test_rescheduling_replaces_and_cancel_prevents_firing() -> None:
    rec = Recorder()
    wheel = TimerWheel(rec)
    now = time.time()
    wheel.schedule("a", now + 0.05, 0)
    wheel.schedule("a", now + 0.15, 0)
    wheel.schedule("b", now + 0.05, 0)
    wheel.cancel("b")
    await run_for(wheel, 0.3)
    assert [k for k, _ in rec.fired] == ["a"]
    assert rec.fired[0][1] < 0.05  # fired at the second due time, not the first


async def test_an_earlier_timer_scheduled_while_sleeping_wakes_the_wheel() -> None:
    rec = Recorder()
    wheel = TimerWheel(rec)
    wheel.schedule("late", time.time() + 10, 0)
    task = asyncio.create_task(wheel.run())
    await asyncio.sleep(0.05)
    wheel.schedule("soon", time.time() + 0.05, 0)
    await asyncio.sleep(0.2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert [k for k, _ in rec.fired] == ["soon"]


async def test_dropping_a_partition_forgets_only_its_timers() -> None:
    rec = Recorder()
    wheel = TimerWheel(rec)
    now = time.time()
    wheel.schedule("p0", now + 0.05, 0)
    wheel.schedule("p1", now + 0.05, 1)
    assert wheel.drop_partitions([1]) == 1
    await run_for(wheel, 0.2)
    assert [k for k, _ in rec.fired] == ["p0"]


async def test_a_failed_fire_is_retried_not_lost() -> None:
    rec = Recorder(fail_first=1)
    wheel = TimerWheel(rec)
    wheel.schedule("x", time.time(), 0)
    await run_for(wheel, 1.5)
    assert [k for k, _ in rec.fired] == ["x"]


async def test_overdue_timers_fire_immediately_in_batches() -> None:
    rec = Recorder()
    wheel = TimerWheel(rec, batch=100)
    past = time.time() - 5
    for i in range(1000):
        wheel.schedule(i, past + i / 1000, i % 12)
    await run_for(wheel, 0.3)
    assert sorted(k for k, _ in rec.fired) == list(range(1000))  # type: ignore[type-var]
