"""The notification service app."""

from __future__ import annotations

from fastapi import FastAPI

from stopclock_shared.runtime import create_service_app
from stopclock_shared.settings import Settings

from .consumers import event_consumer
from .models import outbox, processed_events


class NotificationSettings(Settings):
    service_name: str = "notification"


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    settings = settings or NotificationSettings()
    return create_service_app(
        settings,
        title="Stopclock notification service",
        description="Every mail the desk owes its users: templates, delivery log, preferences.",
        outbox_table=outbox,
        processed_table=processed_events,
        consumers=lambda rt: [event_consumer(rt)],
    )
