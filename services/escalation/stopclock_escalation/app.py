"""The escalation service app: policies, escalations and responsiveness API, the events
consumer, the reminder timers and the outbox relay."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from fastapi import FastAPI

from stopclock_shared.runtime import Runtime, create_service_app, state_of

from . import metrics
from .api import router
from .consumers import event_consumer
from .ladder_timers import LadderTimers
from .models import outbox, processed_events
from .policy_page import router as policy_page_router
from .repository import SqlEscalationRepository
from .settings import EscalationSettings
from .state import EscalationState

__all__ = ["EscalationSettings", "create_app"]


async def build_state(runtime: Runtime) -> None:
    """The timers exist before the consumer, whose partition hooks feed them."""
    runtime.state = EscalationState(timers=LadderTimers(runtime.sessionmaker, runtime.outbox))


async def export_open_episodes(runtime: Runtime) -> None:
    """Refresh the waiting-episodes gauge from the database (the same for every replica)."""
    while True:
        async with runtime.sessionmaker() as session:
            metrics.EPISODES_OPEN.set(await SqlEscalationRepository(session).count_open())
        await asyncio.sleep(15)


def tasks(runtime: Runtime) -> Sequence[tuple[str, Callable[[], Awaitable[None]]]]:
    state = state_of(runtime, EscalationState)
    return [
        ("escalation-timers", state.timers.run),
        ("waiting-episodes-gauge", lambda: export_open_episodes(runtime)),
    ]


def create_app(settings: EscalationSettings | None = None) -> FastAPI:
    settings = settings or EscalationSettings()
    config = settings  # narrowed for the closure below
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
        consumers=lambda rt: [event_consumer(rt, config, state_of(rt, EscalationState).timers)],
        tasks=tasks,
        on_ready=build_state,
    )
