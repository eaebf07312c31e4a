"""The partition timer keeper: owns the timers of the assigned partitions, lets a committed
change win over a racing load, fires due timers on workers and retries the failed ones."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import TopicPartition
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session as SyncSession

from stopclock_shared.partition_timers import RETRY_SECONDS, NextDue, PartitionTimers
from stopclock_shared.timers import Timer

TOPIC = "tickets.events"
LATER = time.time() + 3600  # far enough never to fire during a test


class Store:
    """The service's database of pending timers, and its firing transaction."""

    def __init__(self, rows: Iterable[tuple[str, int, float | None]] = ()) -> None:
        self.rows = list(rows)
        self.loads: list[set[int]] = []
        self.during_load: Callable[[], None] | None = None  # a commit racing the load
        self.fired: list[list[Hashable]] = []
        self.failing: set[Hashable] = set()  # keys whose firing fails (once each)
        self.broken = 0  # batches that raise

    async def load(self, parts: set[int]) -> list[tuple[Hashable, int, float | None]]:
        self.loads.append(parts)
        if self.during_load is not None:
            self.during_load()
        await asyncio.sleep(0)
        return [r for r in self.rows if r[1] in parts]

    async def fire(self, timers: list[Timer]) -> list[Timer]:
        if self.broken:
            self.broken -= 1
            raise ConnectionError("database gone")
        failed = [t for t in timers if t.key in self.failing]
        self.failing -= {t.key for t in failed}
        self.fired.append([t.key for t in timers if t not in failed])
        return failed

    def keys(self) -> list[Hashable]:
        return [k for batch in self.fired for k in batch]


def keeper(
    store: Store,
    *,
    batch: int = 500,
    workers: int = 1,
    keep_unowned: bool = False,
    ready: Callable[[Timer], bool] | None = None,
) -> PartitionTimers:
    return PartitionTimers(
        "test",
        TOPIC,
        store.load,
        store.fire,
        batch=batch,
        workers=workers,
        keep_unowned=keep_unowned,
        ready=ready,
    )


def tps(*partitions: int) -> set[TopicPartition]:
    return {TopicPartition(TOPIC, p) for p in partitions}


async def settle(timers: PartitionTimers, seconds: float) -> None:
    """Run the keeper's loop for a while, then stop it (its workers with it)."""
    task = asyncio.create_task(timers.run())
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


# --- ownership ------------------------------------------------------------------------------


async def test_an_assignment_loads_the_timers_of_its_partitions_of_the_topic_only() -> None:
    store = Store([("a", 0, LATER), ("b", 1, LATER), ("c", 2, LATER)])
    timers = keeper(store)
    await timers.on_assigned(tps(0, 2) | {TopicPartition("other.topic", 1)})
    assert timers.owned == {0, 2}
    assert store.loads == [{0, 2}]
    assert [timers.due_of(k) for k in "abc"] == [LATER, None, LATER]
    assert len(timers) == 2


async def test_a_new_assignment_replaces_the_partitions_owned_before() -> None:
    store = Store([("a", 0, LATER), ("b", 1, LATER)])
    timers = keeper(store)
    await timers.on_assigned(tps(0))
    await timers.on_assigned(tps(1))  # e.g. a consumer restarted without a revocation
    assert timers.owned == {1}
    assert (timers.due_of("a"), timers.due_of("b")) == (None, LATER)


async def test_a_revocation_drops_only_the_timers_of_the_revoked_partitions() -> None:
    store = Store([("a", 0, LATER), ("b", 1, LATER)])
    timers = keeper(store)
    await timers.on_assigned(tps(0, 1))
    await timers.on_revoked(tps(1) | {TopicPartition("other.topic", 0)})
    assert timers.owned == {0}
    assert (timers.due_of("a"), timers.due_of("b")) == (LATER, None)


async def test_an_empty_assignment_reads_nothing() -> None:
    store = Store()
    timers = keeper(store)
    await timers.on_assigned({TopicPartition("other.topic", 0)})
    assert store.loads == []
    await timers.reload()
    assert store.loads == []


async def test_a_load_skips_rows_without_a_due_time() -> None:
    timers = keeper(Store([("a", 0, None), ("b", 0, LATER)]))
    await timers.on_assigned(tps(0))
    assert (timers.due_of("a"), timers.due_of("b")) == (None, LATER)


# --- committed changes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keep_unowned", "scheduled"),
    [(False, None), (True, LATER)],
    ids=["cancelled-when-the-owner-learns-otherwise", "kept-when-firing-twice-is-harmless"],
)
async def test_a_change_of_a_partition_not_owned(keep_unowned: bool, scheduled: float) -> None:
    timers = keeper(Store(), keep_unowned=keep_unowned)
    await timers.on_assigned(tps(0))
    timers.apply([NextDue("mine", 0, LATER), NextDue("theirs", 1, LATER)])
    assert timers.due_of("mine") == LATER
    assert timers.due_of("theirs") == scheduled


async def test_a_change_to_no_due_time_cancels_the_timer() -> None:
    timers = keeper(Store([("a", 0, LATER), ("b", 0, LATER)]))
    await timers.on_assigned(tps(0))
    timers.apply([NextDue("a", 0, None)])
    timers.cancel("b")
    assert (timers.due_of("a"), timers.due_of("b"), len(timers)) == (None, None, 0)


async def test_a_change_takes_a_datetime_or_epoch_seconds() -> None:
    timers = keeper(Store())
    await timers.on_assigned(tps(0))
    timers.apply([NextDue("a", 0, datetime.fromtimestamp(LATER, UTC)), NextDue("b", 0, LATER)])
    assert timers.due_of("a") == pytest.approx(LATER)
    assert timers.due_of("b") == LATER


@pytest.mark.parametrize("newer", [LATER - 60, None], ids=["rescheduled", "cancelled"])
async def test_a_change_committed_while_the_partition_loads_wins_over_the_load(
    newer: float | None,
) -> None:
    store = Store([("t", 0, LATER), ("u", 0, LATER)])  # the load reads the older rows
    timers = keeper(store)
    store.during_load = lambda: timers.apply([NextDue("t", 0, newer)])
    await timers.on_assigned(tps(0))
    assert timers.due_of("t") == newer
    assert timers.due_of("u") == LATER  # untouched keys load as read
    store.during_load = None
    await timers.reload()  # the guard ends with the load: the next one reads what it finds
    assert timers.due_of("t") == LATER


async def test_a_change_is_applied_only_once_its_transaction_commits() -> None:
    class Session:
        """What `db.after_commit` needs of a session: its sync session's event hooks."""

        def __init__(self) -> None:
            self.sync_session = SyncSession()

    timers = keeper(Store())
    await timers.on_assigned(tps(0))
    committed, rolled_back = Session(), Session()
    timers.apply_after_commit(committed, [NextDue("a", 0, LATER)])  # type: ignore[arg-type]
    timers.apply_after_commit(rolled_back, [NextDue("b", 0, LATER)])  # type: ignore[arg-type]
    assert timers.due_of("a") is None
    committed.sync_session.commit()
    rolled_back.sync_session.rollback()
    assert (timers.due_of("a"), timers.due_of("b")) == (LATER, None)


# --- firing ---------------------------------------------------------------------------------


async def test_due_timers_fire_in_due_order_in_batches() -> None:
    store = Store()
    timers = keeper(store, batch=10, workers=1)
    await timers.on_assigned(tps(0, 1))
    past = time.time() - 5
    timers.apply(NextDue(i, i % 2, past + i / 100) for i in range(25))
    await settle(timers, 0.2)
    assert store.keys() == list(range(25))
    assert [len(b) for b in store.fired] == [10, 10, 5]
    assert len(timers) == 0


async def test_a_failed_timer_is_retried_a_second_later_and_the_others_are_not() -> None:
    store = Store()
    store.failing = {"flaky"}
    timers = keeper(store)
    await timers.on_assigned(tps(0))
    now = time.time()
    timers.apply([NextDue("flaky", 0, now), NextDue("fine", 0, now)])
    await settle(timers, 0.2)
    assert store.keys() == ["fine"]
    assert timers.due_of("flaky") == pytest.approx(time.time() + RETRY_SECONDS - 0.2, abs=0.15)
    await settle(timers, RETRY_SECONDS)
    assert store.keys() == ["fine", "flaky"]


async def test_a_batch_that_raises_is_retried_whole() -> None:
    store = Store()
    store.broken = 1
    timers = keeper(store)
    await timers.on_assigned(tps(0))
    timers.apply([NextDue("a", 0, time.time()), NextDue("b", 0, time.time())])
    await settle(timers, RETRY_SECONDS + 0.3)
    assert sorted(store.keys()) == ["a", "b"]  # type: ignore[type-var]


async def test_a_retry_never_undoes_a_newer_change_nor_keeps_a_timer_given_away() -> None:
    store = Store()
    timers = keeper(store)
    await timers.on_assigned(tps(0, 1))
    timers.apply([NextDue("changed", 0, LATER)])
    timers.retry([Timer("changed", 0.0, 0), Timer("gone", 0.0, 1), Timer("kept", 0.0, 0)])
    await timers.on_revoked(tps(1))
    timers.retry([Timer("gone", 0.0, 1)])
    assert timers.due_of("changed") == LATER
    assert timers.due_of("gone") is None
    assert timers.due_of("kept") == pytest.approx(time.time() + RETRY_SECONDS, abs=0.1)


async def test_busy_workers_hold_the_wheel_back_and_stopping_cancels_them() -> None:
    started: list[list[Hashable]] = []
    cancelled: list[list[Hashable]] = []

    async def slow(batch: list[Timer]) -> list[Timer]:
        started.append([t.key for t in batch])
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append([t.key for t in batch])
            raise
        return []

    timers = PartitionTimers("test", TOPIC, Store().load, slow, batch=1)
    await timers.on_assigned(tps(0))
    timers.apply([NextDue("a", 0, time.time()), NextDue("b", 0, time.time())])
    await settle(timers, 0.1)
    await asyncio.sleep(0)
    assert started == [["a"]]  # one worker, busy: "b" waits its turn
    assert cancelled == [["a"]]


# --- a gate: due timers held until it lets them through ----------------------------------------


class Marks:
    """A gate of the kind the sla service uses: a timer may fire once its partition's
    mark has passed its due time."""

    def __init__(self) -> None:
        self.marks: dict[int, float] = {}

    def ready(self, timer: Timer) -> bool:
        return self.marks.get(timer.partition, -1.0) > timer.due


async def test_a_due_timer_the_gate_refuses_is_held_until_released() -> None:
    store, marks = Store(), Marks()
    timers = keeper(store, ready=marks.ready)
    await timers.on_assigned(tps(0, 1))
    due = time.time()
    marks.marks = {1: due + 1}
    timers.apply([NextDue("held", 0, due), NextDue("ready", 1, due)])
    await settle(timers, 0.1)
    assert store.keys() == ["ready"]
    assert set(timers.held) == {"held"}
    assert len(timers) == 1

    await timers.release({0})  # the gate still says no
    assert set(timers.held) == {"held"}
    marks.marks[0] = due + 1
    await timers.release({1})  # not its partition
    assert set(timers.held) == {"held"}
    await timers.release({0})
    await settle(timers, 0.05)
    assert store.keys() == ["ready", "held"]
    assert timers.held == {}


async def test_released_timers_fire_in_due_order_in_batches() -> None:
    store, marks = Store(), Marks()
    timers = keeper(store, ready=marks.ready, batch=2, workers=3)
    await timers.on_assigned(tps(0))
    past = time.time() - 10
    timers.apply(NextDue(k, 0, past + i) for i, k in enumerate("dcba"))
    await settle(timers, 0.1)
    assert set(timers.held) == set("abcd")
    marks.marks[0] = time.time()
    await timers.release({0})
    await settle(timers, 0.05)
    assert store.fired == [["d", "c"], ["b", "a"]]


async def test_a_newer_change_or_losing_the_partition_forgets_a_held_timer() -> None:
    timers = keeper(Store(), ready=Marks().ready)
    await timers.on_assigned(tps(0, 1, 2))
    due = time.time()
    timers.apply([NextDue("paused", 0, due), NextDue("moved", 1, due), NextDue("stale", 2, due)])
    await settle(timers, 0.1)
    assert set(timers.held) == {"paused", "moved", "stale"}
    timers.apply([NextDue("paused", 0, None)])
    assert set(timers.held) == {"moved", "stale"}
    await timers.on_revoked(tps(1))
    assert set(timers.held) == {"stale"}
    await timers.on_assigned(tps(0))
    assert timers.held == {}


async def test_a_timer_of_a_partition_given_away_is_not_held() -> None:
    store = Store()
    timers = keeper(store, ready=Marks().ready, keep_unowned=True)
    await timers.on_assigned(tps(0))
    timers.apply([NextDue("theirs", 5, time.time())])
    await settle(timers, 0.1)
    assert (timers.held, store.fired) == ({}, [])


# --- property: the keeper holds what the database says of the owned partitions ---------------

KEYS = st.sampled_from("abcdef")
PARTS = st.frozensets(st.integers(0, 3))
CHANGE = st.tuples(KEYS, st.integers(0, 3), st.none() | st.integers(1, 5).map(float))
STEP = (
    st.tuples(st.just("assign"), PARTS, st.none() | CHANGE)  # a change may commit mid-load
    | st.tuples(st.just("revoke"), PARTS, st.none())
    | st.tuples(st.just("commit"), CHANGE, st.none())
)


@settings(max_examples=300, deadline=None)
@given(st.lists(STEP, max_size=12))
def test_after_any_assignments_revocations_and_commits_the_timers_are_those_stored(
    steps: list[tuple[Any, Any, Any]],
) -> None:
    stored: dict[str, tuple[int, float | None]] = {}  # key -> (partition, due): the database
    racing: list[tuple[str, int, float | None]] = []

    def commit(change: tuple[str, int, float | None]) -> None:
        key, partition, due = change
        stored[key] = (partition, LATER + due if due is not None else None)
        timers.apply([NextDue(key, partition, stored[key][1])])

    async def load(parts: set[int]) -> list[tuple[Hashable, int, float | None]]:
        read = [(k, p, d) for k, (p, d) in stored.items() if p in parts]
        while racing:
            commit(racing.pop())  # commits after the read, before the load applies it
        return read

    timers = PartitionTimers("test", TOPIC, load, Store().fire)

    async def play() -> None:
        for kind, what, race in steps:
            if kind == "assign":
                racing.extend([race] if race else [])
                await timers.on_assigned(tps(*what))
            elif kind == "revoke":
                await timers.on_revoked(tps(*what))
            else:
                commit(what)
            expected = {k: d for k, (p, d) in stored.items() if p in timers.owned and d is not None}
            actual = {k: timers.due_of(k) for k in "abcdef" if timers.due_of(k) is not None}
            assert actual == expected

    asyncio.run(play())
