"""The notification service app: mail log and preferences API, the events consumer, senders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from fastapi import FastAPI

from stopclock_shared.runtime import Runtime, create_service_app, state_of

from . import metrics
from .api import router
from .consumers import event_consumer
from .domain import MANDATORY_KINDS
from .inbound_imap import run_poller
from .inbound_smtp import InboundHandler, InboundSmtpServer
from .intake import Intake, inbound_desk_of
from .models import outbox, processed_events
from .repository import SqlNotificationRepository, SqlUnits
from .sender import sender_tasks
from .settings import NotificationSettings
from .state import NotificationState

PENDING_GAUGE_SECONDS = 5.0

__all__ = ["NotificationSettings", "create_app"]


async def export_pending(runtime: Runtime) -> None:
    """Refresh the unsent-mails gauge (a growing figure means SMTP trouble)."""
    while True:
        async with runtime.sessionmaker() as session:
            unsent = await SqlNotificationRepository(session).count_unsent()
            metrics.MAILS_PENDING.set(unsent)
        await asyncio.sleep(PENDING_GAUGE_SECONDS)


def inbound_tasks(runtime: Runtime) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    """The SMTP receiver (ready once bound) and, when configured, the IMAP poller."""
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    intake = Intake(runtime.sessionmaker, runtime.outbox, inbound_desk_of(settings))
    found: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    if settings.inbound_smtp_enabled:
        server = InboundSmtpServer(
            InboundHandler(intake, settings.desk_address),
            settings.inbound_smtp_host,
            settings.inbound_smtp_port,
            settings.inbound_max_bytes,
            hostname=settings.desk_address.rpartition("@")[2],
        )
        runtime.readiness["inbound_smtp"] = server.readiness
        found.append(("inbound-smtp", server.run))
    if settings.inbound_imap_host:
        found.append(("inbound-imap", lambda: run_poller(settings, intake)))
    return found


def tasks(runtime: Runtime) -> Sequence[tuple[str, Callable[[], Awaitable[None]]]]:
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    state = state_of(runtime, NotificationState)
    return [
        *inbound_tasks(runtime),
        ("mails-pending-gauge", lambda: export_pending(runtime)),
        *sender_tasks(
            SqlUnits(runtime.sessionmaker, runtime.outbox),
            settings,
            state.wakeup,
            written=state.written,
        ),
    ]


async def on_ready(runtime: Runtime) -> None:
    """The state the consumer and the senders of this process share."""
    runtime.state = NotificationState()


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    settings = settings or NotificationSettings()
    return create_service_app(
        settings,
        title="Stopclock notification service",
        description=(
            "Every mail the desk owes its users: templates, delivery log, preferences. "
            f"Mandatory kinds (cannot be opted out): {', '.join(sorted(MANDATORY_KINDS))}."
        ),
        outbox_table=outbox,
        processed_table=processed_events,
        routers=[router],
        consumers=lambda rt: [event_consumer(rt)],
        tasks=tasks,
        on_ready=on_ready,
    )
