"""The escalation service's reminder timers on the shared keeper: what it loads, how a
committed change and a fired ladder reschedule, and which failures are retried."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from aiokafka import TopicPartition
from prometheus_client import REGISTRY

from stopclock_escalation import ladder_timers, repository
from stopclock_escalation.domain.ladder import CancelTimer, ScheduleTimer
from stopclock_escalation.ladder_timers import LadderTimers
from stopclock_shared.events.topics import TICKETS_EVENTS

LATER = datetime.now(UTC) + timedelta(hours=1)


class FakeSession:
    """What the timers do with a session: open it and run one transaction."""

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[None]:
        yield


def replica(monkeypatch: pytest.MonkeyPatch, stored: list[ScheduleTimer]) -> LadderTimers:
    @asynccontextmanager
    async def session() -> AsyncIterator[FakeSession]:
        yield FakeSession()

    async def due_in_partitions(_repo: object, partitions: set[int]) -> list[ScheduleTimer]:
        return [t for t in stored if t.partition in partitions]

    monkeypatch.setattr(repository.SqlEscalationRepository, "due_in_partitions", due_in_partitions)
    return LadderTimers(cast(Any, session), cast(Any, None))


def tps(*partitions: int) -> set[TopicPartition]:
    return {TopicPartition(TICKETS_EVENTS, p) for p in partitions}


def gauge() -> float | None:
    return REGISTRY.get_sample_value("stopclock_escalation_timers_scheduled")


async def test_an_assignment_loads_the_open_episodes_of_its_partitions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers = replica(monkeypatch, [ScheduleTimer("e0", LATER, 0), ScheduleTimer("e1", LATER, 1)])
    await timers.on_assigned(tps(0))
    assert timers.owned == {0}
    assert timers.wheel.due_of("e0") == LATER.timestamp()
    assert timers.wheel.due_of("e1") is None
    assert len(timers) == gauge() == 1
    await timers.on_revoked(tps(0))
    assert (timers.owned, len(timers), gauge()) == (set(), 0, 0)


async def test_committed_changes_schedule_even_for_a_partition_given_away_and_cancel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timers = replica(monkeypatch, [])
    await timers.on_assigned(tps(0))
    # Its new owner may have loaded before this commit: firing twice is harmless.
    timers.apply([ScheduleTimer("mine", LATER, 0), ScheduleTimer("moved", LATER, 7)])
    assert timers.wheel.due_of("moved") == LATER.timestamp()
    timers.apply([CancelTimer("mine")])
    assert timers.wheel.due_of("mine") is None
    assert len(timers) == 1


async def run_briefly(timers: LadderTimers, seconds: float = 0.1) -> None:
    task = asyncio.create_task(timers.run())
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize(
    ("error", "retried"),
    [(ConnectionResetError("database gone"), True), (ValueError("a bug"), False)],
    ids=["transient-retried", "bug-left-for-the-next-rebuild"],
)
async def test_a_failed_ladder_is_retried_only_when_the_failure_is_transient(
    monkeypatch: pytest.MonkeyPatch, error: Exception, retried: bool
) -> None:
    async def fire_ladder(_uow: object, episode_id: str, _now: datetime) -> Any:
        if episode_id == "failing":
            raise error
        return ScheduleTimer(episode_id, LATER, 0), ()

    monkeypatch.setattr(ladder_timers, "fire_ladder", fire_ladder)
    monkeypatch.setattr(repository, "unit_of_work", lambda *_: None)
    timers = replica(monkeypatch, [])
    await timers.on_assigned(tps(0))
    now = datetime.now(UTC)
    timers.apply([ScheduleTimer("failing", now, 0), ScheduleTimer("fine", now, 0)])
    await run_briefly(timers)
    assert timers.wheel.due_of("fine") == LATER.timestamp()  # its next step
    due = timers.wheel.due_of("failing")
    assert (due is not None) is retried
    if due is not None:
        assert time.time() < due < time.time() + 1.0
