"""The reminder timers of the episodes in the ``tickets.events`` partitions this replica owns.

The shared keeper (``stopclock_shared.partition_timers``) owns them: rebuilt from the
database on partition assignment and dropped on revocation, so a lost replica's timers are
taken over by whoever gets its partitions. Firing is idempotent (``use_cases.ladder``), so a timer
that two replicas hold for a moment still acts once: a committed change is scheduled even
when its partition moved away meanwhile (its new owner may have loaded before our commit).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from stopclock_shared.consumer import is_transient
from stopclock_shared.db import utc_now
from stopclock_shared.events.topics import TICKETS_EVENTS
from stopclock_shared.outbox import Outbox
from stopclock_shared.partition_timers import NextDue, PartitionTimers
from stopclock_shared.timers import Timer

from . import metrics
from . import repository as repo
from .domain.ladder import (
    CancelTimer,
    ManagerEscalated,
    RequesterReminded,
    ScheduleTimer,
    TicketAutoResolved,
    TimerChange,
)
from .use_cases.ladder import fire_ladder

log = logging.getLogger(__name__)


class LadderTimers(PartitionTimers):
    """The escalation service's timers; ``apply`` takes the timer changes of a committed
    transaction."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], outbox: Outbox) -> None:
        super().__init__(
            "escalation",
            TICKETS_EVENTS,
            self._pending,
            self._fire,
            lag=metrics.TIMER_LAG,
            keep_unowned=True,
            scheduled=metrics.TIMERS_SCHEDULED,
        )
        self.maker = sessionmaker
        self.outbox = outbox

    def apply(self, changes: Iterable[TimerChange | NextDue]) -> None:
        """Apply timer changes decided in a transaction that has committed."""
        for change in changes:
            if isinstance(change, ScheduleTimer):
                self.set_due(change.episode_id, change.partition, change.due)
            elif isinstance(change, CancelTimer):
                self.cancel(change.episode_id)
            else:
                self.set_due(*change)

    async def _pending(self, partitions: set[int]) -> Iterable[tuple[Hashable, int, datetime]]:
        async with self.maker() as session:
            due = await repo.SqlEscalationRepository(session).due_in_partitions(partitions)
        return [(t.episode_id, t.partition, t.due) for t in due]

    async def _fire(self, timers: list[Timer]) -> list[Timer]:
        failed: list[Timer] = []
        for timer in timers:
            try:
                async with self.maker() as session, session.begin():
                    schedule, actions = await fire_ladder(
                        repo.unit_of_work(session, self.outbox), str(timer.key), utc_now()
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
