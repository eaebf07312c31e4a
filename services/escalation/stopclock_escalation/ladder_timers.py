"""The reminder timers of the episodes in the ``tickets.events`` partitions this replica owns.

Same model as the SLA timers: in memory, event-time based, rebuilt from the database on
partition assignment and dropped on revocation, so a lost replica's timers are taken
over by whoever gets its partitions. Firing is idempotent (see ``ladder``), so a timer
that two replicas hold for a moment still acts once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence

from aiokafka import TopicPartition
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stopclock_shared.consumer import is_transient
from stopclock_shared.db import utc_now
from stopclock_shared.events.topics import TICKETS_EVENTS
from stopclock_shared.outbox import Outbox
from stopclock_shared.timers import Timer, TimerWheel

from . import metrics
from . import repository as repo
from .domain.timers import ManagerEscalated, RequesterReminded, TicketAutoResolved
from .ladder import fire_episode
from .waiting import CancelTimer, ScheduleTimer, TimerChange

log = logging.getLogger(__name__)


class LadderTimers:
    """Owns the wheel; ``on_assigned``/``on_revoked`` are the consumer's partition hooks."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], outbox: Outbox) -> None:
        self.maker = sessionmaker
        self.outbox = outbox
        self.wheel = TimerWheel(self._fire, lag=metrics.TIMER_LAG)
        self.owned: set[int] = set()

    async def run(self) -> None:
        await self.wheel.run()

    def apply(self, changes: Iterable[TimerChange]) -> None:
        """Apply timer changes decided in a transaction that has committed.

        Scheduled even when the partition moved away meanwhile: its new owner may have
        rebuilt before our commit, and firing twice is harmless where missing is not.
        """
        for change in changes:
            if isinstance(change, ScheduleTimer):
                self.wheel.schedule(change.episode_id, change.due, change.partition)
            elif isinstance(change, CancelTimer):
                self.wheel.cancel(change.episode_id)
        metrics.TIMERS_SCHEDULED.set(len(self.wheel))

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        partitions = {tp.partition for tp in assigned if tp.topic == TICKETS_EVENTS}
        if not partitions:
            return
        self.owned |= partitions
        async with self.maker() as session:
            rows = await repo.due_in_partitions(session, partitions)
        for row in rows:
            self.wheel.schedule(str(row["id"]), row["next_due_at"], row["partition"])
        metrics.TIMERS_SCHEDULED.set(len(self.wheel))
        log.info("took over %d escalation timers of partitions %s", len(rows), sorted(partitions))

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        partitions = {tp.partition for tp in revoked if tp.topic == TICKETS_EVENTS}
        if not partitions:
            return
        self.owned -= partitions
        dropped = self.wheel.drop_partitions(partitions)
        metrics.TIMERS_SCHEDULED.set(len(self.wheel))
        log.info("handed over %d escalation timers of partitions %s", dropped, sorted(partitions))

    async def _fire(self, timers: list[Timer]) -> Sequence[Timer]:
        failed: list[Timer] = []
        for timer in timers:
            try:
                async with self.maker() as session, session.begin():
                    schedule, actions = await fire_episode(
                        session, self.outbox, uuid.UUID(str(timer.key)), utc_now()
                    )
            except Exception as exc:
                if is_transient(exc):
                    log.warning("escalation timer %s failed, retrying: %s", timer.key, exc)
                    failed.append(timer)
                else:
                    # Not retried in a hot loop: the episode keeps its due time in the
                    # database and is picked up again at the next assignment.
                    log.exception(
                        "escalation timer %s failed; left for the next rebuild", timer.key
                    )
                continue
            _count(actions)
            if schedule is not None:
                self.apply([schedule])
        metrics.TIMERS_SCHEDULED.set(len(self.wheel))
        return failed


def _count(actions: Iterable[object]) -> None:
    for action in actions:
        if isinstance(action, RequesterReminded):
            metrics.REMINDERS.inc()
        elif isinstance(action, ManagerEscalated):
            metrics.MANAGER_ESCALATIONS.labels(
                "desk_manager" if action.to_desk_manager else "manager"
            ).inc()
        elif isinstance(action, TicketAutoResolved):
            metrics.AUTO_RESOLVES.inc()
