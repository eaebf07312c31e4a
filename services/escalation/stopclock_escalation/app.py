"""The escalation service app: policies, escalations and responsiveness API, the events
consumer, the reminder timers and the outbox relay."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from fastapi import FastAPI

from stopclock_shared.runtime import Runtime, create_service_app

from . import metrics
from . import repository as repo
from .api import router
from .consumers import event_consumer
from .ladder_timers import LadderTimers
from .models import outbox, processed_events
from .policy_page import router as policy_page_router
from .settings import EscalationSettings

__all__ = ["EscalationSettings", "create_app"]


async def build_timers(runtime: Runtime) -> None:
    """The timer owner exists before the consumer, whose partition hooks feed it."""
    runtime.extras["timers"] = LadderTimers(runtime.sessionmaker, runtime.outbox)


async def export_open_episodes(runtime: Runtime) -> None:
    """Refresh the waiting-episodes gauge from the database (the same for every replica)."""
    while True:
        async with runtime.sessionmaker() as session:
            metrics.EPISODES_OPEN.set(await repo.count_open(session))
        await asyncio.sleep(15)


def tasks(runtime: Runtime) -> Sequence[tuple[str, Callable[[], Awaitable[None]]]]:
    timers: LadderTimers = runtime.extras["timers"]
    return [
        ("escalation-timers", timers.run),
        ("waiting-episodes-gauge", lambda: export_open_episodes(runtime)),
    ]


def create_app(settings: EscalationSettings | None = None) -> FastAPI:
    settings = settings or EscalationSettings()
    return create_service_app(
        settings,
        title="Stopclock escalation service",
        description=(
            "Reminders, manager escalations, auto-resolution and the responsiveness register. "
            "When no stored policy matches a ticket, the built-in policy `default` applies: "
            "reminders 1 and 3 days after waiting starts, the final step a day later, 24x7. "
            "`/policy` is the public page saying the reminders and the manager rule plainly."
        ),
        outbox_table=outbox,
        processed_table=processed_events,
        routers=[router, policy_page_router],
        consumers=lambda rt: [event_consumer(rt)],
        tasks=tasks,
        on_ready=build_timers,
    )
