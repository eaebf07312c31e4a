"""The sla service app: policy/calendar/clock API, the tickets consumer, the timers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from fastapi import FastAPI

from stopclock_shared.db import utc_now
from stopclock_shared.runtime import Runtime, create_service_app, state_of

from . import metrics, use_cases
from .api import router
from .consumers import TICKETS_CONSUMER, event_consumer
from .models import outbox, processed_events
from .policy_page import router as policy_page_router
from .repository import SqlSlaRepository, count_states, unit_of_work
from .settings import SlaSettings
from .state import SlaState
from .timers import SlaTimers
from .version_cache import VersionCache
from .watermarks import TicketsConsumer, Watermarks

log = logging.getLogger(__name__)

__all__ = ["SlaSettings", "create_app"]
DESCRIPTION = (
    "SLA policies (with the statuses that pause them), business calendars and "
    "per-ticket clocks computed from ticket events; breach and warning timers; "
    "`/policy`, the public page saying the policies in plain words."
)


async def prepare(runtime: Runtime) -> None:
    """Before the consumers start: defaults seeded, versions parsed, timers ready to load."""
    settings = runtime.settings
    assert isinstance(settings, SlaSettings)
    cache = VersionCache()
    async with runtime.sessionmaker() as session, session.begin():
        await use_cases.seed_defaults(
            unit_of_work(session, runtime.outbox),
            utc_now(),
            default_policies=settings.default_policies,
            topic=settings.events_topic,
        )
    async with runtime.sessionmaker() as session:
        await cache.preload(SqlSlaRepository(session, runtime.outbox))
    timers = SlaTimers(
        engine=runtime.engine,
        sessionmaker=runtime.sessionmaker,
        outbox=runtime.outbox,
        cache=cache,
        tickets_topic=settings.tickets_topic,
        events_topic=settings.events_topic,
        marks=Watermarks(settings.sla_breach_grace_seconds, settings.sla_outage_grace_seconds),
    )
    metrics.create_series()
    metrics.TIMERS_SCHEDULED.set_function(lambda: len(timers))
    runtime.state = SlaState(cache, timers)


async def export_clock_states(runtime: Runtime, interval: float) -> None:
    """Clocks by state over all tickets, exported by the outbox-relay leader only.

    Every replica sees the same database: one exporter keeps `sum by (state)` right.
    """
    while True:
        if runtime.relay is not None and runtime.relay.is_leader:
            async with runtime.sessionmaker() as session:
                counts = await count_states(session)
            for state in metrics.CLOCK_STATES:
                metrics.CLOCKS.labels(state).set(counts.get(state, 0))
        else:
            for state in metrics.CLOCK_STATES:
                metrics.CLOCKS.labels(state).set(0)
        await asyncio.sleep(interval)


def tasks(runtime: Runtime) -> Sequence[tuple[str, Callable[[], Awaitable[None]]]]:
    settings = runtime.settings
    assert isinstance(settings, SlaSettings)
    timers = state_of(runtime, SlaState).timers
    found = [
        ("sla-timers", timers.run),
        ("sla-timer-notes", timers.listen),
        ("sla-clocks-gauge", lambda: export_clock_states(runtime, settings.clocks_gauge_seconds)),
    ]
    tickets = next((c for c in runtime.consumers if c.name == TICKETS_CONSUMER), None)
    if tickets is not None:  # no consumer, no partitions: no timers to decide
        view = TicketsConsumer(tickets)
        found.append(("sla-event-time", lambda: timers.follow_marks(view)))
    return found


def create_app(settings: SlaSettings | None = None) -> FastAPI:
    settings = settings or SlaSettings()
    return create_service_app(
        settings,
        title="Stopclock sla service",
        description=DESCRIPTION,
        outbox_table=outbox,
        processed_table=processed_events,
        routers=[router, policy_page_router],
        consumers=lambda rt: [event_consumer(rt)],
        tasks=tasks,
        on_ready=prepare,
    )
