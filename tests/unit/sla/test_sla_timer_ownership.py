"""A replica's SLA timers follow the partitions it owns, and the last committed change wins."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from aiokafka import TopicPartition
from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_sla import repository
from stopclock_sla.catalog import Catalog
from stopclock_sla.timer_notes import TimerNote
from stopclock_sla.timers import SlaTimers

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
        catalog=Catalog(),
        tickets_topic=TOPIC,
        events_topic="sla.events",
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
    assert (timers.wheel.due_of("a"), timers.wheel.due_of("b")) == (T0.timestamp(), None)
    assert len(timers) == 2


async def test_a_new_assignment_replaces_the_partitions_owned_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers, _ = replica(monkeypatch, [("a", 0, T0), ("b", 1, T0)])
    await timers.on_assigned(tps(0))
    await timers.on_assigned(tps(1))  # e.g. a consumer restarted without a revocation
    assert timers.owned == {1}
    assert (timers.wheel.due_of("a"), timers.wheel.due_of("b")) == (None, T0.timestamp())


async def test_a_revocation_drops_the_timers_of_those_partitions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers, _ = replica(monkeypatch, [("a", 0, T0), ("b", 1, T0)])
    await timers.on_assigned(tps(0, 1))
    await timers.on_revoked(tps(1))
    assert timers.owned == {0}
    assert timers.wheel.due_of("b") is None
    assert timers.wheel.due_of("a") == T0.timestamp()


async def test_a_note_schedules_a_ticket_of_an_owned_partition_and_cancels_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers, _ = replica(monkeypatch)
    await timers.on_assigned(tps(3))
    later = T0 + timedelta(minutes=5)
    timers._on_note(None, 0, repository.TIMERS_CHANNEL, note("mine", 3, later))
    timers._on_note(None, 0, repository.TIMERS_CHANNEL, note("theirs", 4, later))
    assert timers.wheel.due_of("mine") == later.timestamp()
    assert timers.wheel.due_of("theirs") is None
    timers._on_note(None, 0, repository.TIMERS_CHANNEL, note("mine", 3, None))
    assert timers.wheel.due_of("mine") is None


async def test_a_change_committed_while_the_timers_load_is_not_undone_by_the_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closer = T0 - timedelta(hours=1)  # e.g. a priority change brought the deadline closer
    timers, database = replica(monkeypatch, [("t", 0, T0)])  # the load reads the older row
    database.during_load = lambda: timers._on_note(
        None, 0, repository.TIMERS_CHANNEL, note("t", 0, closer)
    )
    await timers.on_assigned(tps(0))
    assert timers.wheel.due_of("t") == closer.timestamp()


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
