"""The ticket service app: public REST API, the commands consumer, the outbox relay."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from fastapi import FastAPI

from stopclock_shared.runtime import Runtime, create_service_app

from . import metrics
from .api import router
from .consumers import command_consumer
from .models import outbox, processed_events
from .repository import SqlTicketRepository
from .settings import TicketSettings

__all__ = ["TicketSettings", "create_app"]


async def export_open_tickets(runtime: Runtime) -> None:
    """Refresh the open-tickets gauge from the database (the desk's headline figure)."""
    while True:
        async with runtime.sessionmaker() as session:
            rows = await SqlTicketRepository(session, runtime.outbox).count_open()
        metrics.TICKETS_OPEN.clear()
        for row in rows:
            metrics.TICKETS_OPEN.labels(row["status"], row["priority"]).set(row["n"])
        await asyncio.sleep(15)


def tasks(runtime: Runtime) -> Sequence[tuple[str, Callable[[], Awaitable[None]]]]:
    return [("open-tickets-gauge", lambda: export_open_tickets(runtime))]


def create_app(settings: TicketSettings | None = None) -> FastAPI:
    settings = settings or TicketSettings()
    return create_service_app(
        settings,
        title="Stopclock ticket service",
        description="Tickets, people, comments, history, outages and subscriptions.",
        outbox_table=outbox,
        processed_table=processed_events,
        routers=[router],
        consumers=lambda rt: [command_consumer(rt)],
        tasks=tasks,
    )
