"""A replica's SLA timers follow the partitions it owns, and the last committed change wins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from aiokafka import TopicPartition
from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_shared.timers import Timer
from stopclock_sla import repository
from stopclock_sla.timer_notes import TimerNote
from stopclock_sla.timers import SlaTimers
from stopclock_sla.use_cases import Saved
from stopclock_sla.version_cache import VersionCache
from stopclock_sla.watermarks import Watermarks

TOPIC = "tickets.events"
T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)


class FakeTimerRows:
    """The `pending_timers` query over rows of (ticket, partition, next_due)."""

    def __init__(self, rows: Sequence[tuple[str, int, datetime]] = ()) -> None:
        self.rows = list(rows)
        self.during_load: Callable[[], None] | None = None  # a commit racing the load

    async def pending_timers(self, session: object, partitions: set[int]) -> list[Any]:
        if self.during_load is not None:
            self.during_load()
        return [r for r in self.rows if r[1] in partitions]


def replica(
    monkeypatch: pytest.MonkeyPatch, rows: Sequence[tuple[str, int, datetime]] = ()
) -> tuple[SlaTimers, FakeTimerRows]:
    @asynccontextmanager
    async def session() -> AsyncIterator[object]:
        yield object()

    database = FakeTimerRows(rows)
    monkeypatch.setattr(repository, "pending_timers", database.pending_timers)
    timers = SlaTimers(
        engine=cast(Any, None),
        sessionmaker=cast(Any, session),
        outbox=cast(Any, None),
        cache=VersionCache(),
        tickets_topic=TOPIC,
        events_topic="sla.events",
        marks=Watermarks(grace=1.0, outage_grace=5.0),
    )
    return timers, database


def tps(*partitions: int) -> set[TopicPartition]:
    return {TopicPartition(TOPIC, p) for p in partitions}


def note(ticket: str, partition: int, due: datetime | None) -> str:
    return TimerNote(ticket, partition, due).encode()


async def test_an_assignment_loads_the_timers_of_the_assigned_partitions_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers, _ = replica(monkeypatch, [("a", 0, T0), ("b", 1, T0), ("c", 2, T0)])
    await timers.on_assigned(tps(0, 2) | {TopicPartition("other.topic", 1)})
    assert timers.owned == {0, 2}
    assert (timers.due_of("a"), timers.due_of("b")) == (T0.timestamp(), None)
    assert len(timers) == 2


async def test_a_new_assignment_replaces_the_partitions_owned_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers, _ = replica(monkeypatch, [("a", 0, T0), ("b", 1, T0)])
    await timers.on_assigned(tps(0))
    await timers.on_assigned(tps(1))  # e.g. a consumer restarted without a revocation
    assert timers.owned == {1}
    assert (timers.due_of("a"), timers.due_of("b")) == (None, T0.timestamp())


async def test_a_revocation_drops_the_timers_of_those_partitions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers, _ = replica(monkeypatch, [("a", 0, T0), ("b", 1, T0)])
    await timers.on_assigned(tps(0, 1))
    await timers.on_revoked(tps(1))
    assert timers.owned == {0}
    assert timers.due_of("b") is None
    assert timers.due_of("a") == T0.timestamp()


async def test_a_note_schedules_a_ticket_of_an_owned_partition_and_cancels_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers, _ = replica(monkeypatch)
    await timers.on_assigned(tps(3))
    later = T0 + timedelta(minutes=5)
    timers._on_note(None, 0, repository.TIMERS_CHANNEL, note("mine", 3, later))
    timers._on_note(None, 0, repository.TIMERS_CHANNEL, note("theirs", 4, later))
    assert timers.due_of("mine") == later.timestamp()
    assert timers.due_of("theirs") is None
    timers._on_note(None, 0, repository.TIMERS_CHANNEL, note("mine", 3, None))
    assert timers.due_of("mine") is None


async def test_a_change_committed_while_the_timers_load_is_not_undone_by_the_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closer = T0 - timedelta(hours=1)  # e.g. a priority change brought the deadline closer
    timers, database = replica(monkeypatch, [("t", 0, T0)])  # the load reads the older row
    database.during_load = lambda: timers._on_note(
        None, 0, repository.TIMERS_CHANNEL, note("t", 0, closer)
    )
    await timers.on_assigned(tps(0))
    assert timers.due_of("t") == closer.timestamp()


async def test_a_malformed_note_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    timers, _ = replica(monkeypatch)
    await timers.on_assigned(tps(0))
    timers._on_note(None, 0, repository.TIMERS_CHANNEL, "garbage")
    assert len(timers) == 0


@settings(deadline=None, max_examples=200)
@given(
    st.uuids().map(str),
    st.integers(0, 1023),
    st.none()
    | st.integers(0, 4_000_000_000_000_000).map(
        lambda us: datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
    ),
)
def test_a_timer_note_decodes_to_what_was_encoded(
    ticket: str, partition: int, due: datetime | None
) -> None:
    encoded = TimerNote(ticket, partition, due).encode()
    assert TimerNote.decode(encoded) == TimerNote(ticket, partition, due)
    assert len(encoded) < 8000  # PostgreSQL's NOTIFY payload limit


# --- timers decide on event time (docs/sla-timing.md) ----------------------------------------


def known_until(timers: SlaTimers, partition: int, until: datetime) -> None:
    """Answers of `partition` flowing, caught up, until its mark is `until` (grace 1 s)."""
    end = until.timestamp() + 1.0 + 0.1  # the mark is the answer before the last, less 1 s
    now = end - 6.0
    while now <= end + 1e-9:
        timers.marks.tick(now)
        timers.marks.observe(partition, now, caught_up=True)
        now += 0.05


class Fired:
    """Stands in for the database work of firing: records the batches handed to workers."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def start(self, batch: list[Timer]) -> None:
        self.batches.append([str(t.key) for t in batch])


def firing(monkeypatch: pytest.MonkeyPatch, timers: SlaTimers) -> Fired:
    fired = Fired()
    monkeypatch.setattr(timers, "dispatch", fired.start)
    return fired


async def fall_due(timers: SlaTimers, *due: Timer) -> None:
    """Committed changes that are already due, then the timer loop runs once over them."""
    for t in due:
        timers.settle([Saved(str(t.key), t.partition, t.due_at, (), "")])
    task = asyncio.create_task(timers.run())
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_due_timer_past_its_partitions_mark_is_held_until_the_mark_passes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers, _ = replica(monkeypatch)
    fired = firing(monkeypatch, timers)
    await timers.on_assigned(tps(0, 1))
    known_until(timers, 0, T0 - timedelta(seconds=1))
    known_until(timers, 1, T0 + timedelta(seconds=1))
    await fall_due(timers, Timer("held", T0.timestamp(), 0), Timer("ready", T0.timestamp(), 1))
    assert fired.batches == [["ready"]]
    assert set(timers.held) == {"held"}
    assert len(timers) == 1

    await timers.release({0})  # the mark has not moved past it yet
    assert fired.batches == [["ready"]]
    known_until(timers, 0, T0 + timedelta(seconds=2))
    await timers.release({0})
    assert fired.batches == [["ready"], ["held"]]
    assert timers.held == {}


async def test_a_partition_without_a_mark_holds_its_timers_and_reads_decide_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers, _ = replica(monkeypatch)
    fired = firing(monkeypatch, timers)
    await timers.on_assigned(tps(0))  # just assigned: nothing known of the partition yet
    await fall_due(timers, Timer("t", T0.timestamp(), 0))
    assert fired.batches == []
    assert timers.horizon(0, T0) is None
    known_until(timers, 0, T0 + timedelta(seconds=2))
    assert timers.horizon(0, T0) == T0  # never beyond the read time
    mark = timers.marks.mark(0)
    assert mark is not None
    assert mark >= T0 + timedelta(seconds=2)
    assert timers.horizon(0, T0 + timedelta(hours=1)) == mark
    assert timers.horizon(5, T0) is None  # not ours


async def test_a_newer_schedule_or_a_revocation_forgets_a_held_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers, _ = replica(monkeypatch)
    firing(monkeypatch, timers)
    await timers.on_assigned(tps(0, 1))
    await fall_due(timers, Timer("paused", T0.timestamp(), 0), Timer("moved", T0.timestamp(), 1))
    assert set(timers.held) == {"paused", "moved"}
    timers._on_note(None, 0, repository.TIMERS_CHANNEL, note("paused", 0, None))  # a pause
    assert set(timers.held) == {"moved"}
    await timers.on_revoked(tps(1))
    assert timers.held == {}
