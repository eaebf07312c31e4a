"""The escalation service app."""

from __future__ import annotations

from fastapi import FastAPI

from stopclock_shared.runtime import create_service_app
from stopclock_shared.settings import Settings

from .consumers import event_consumer
from .models import outbox, processed_events


class EscalationSettings(Settings):
    service_name: str = "escalation"


def create_app(settings: EscalationSettings | None = None) -> FastAPI:
    settings = settings or EscalationSettings()
    return create_service_app(
        settings,
        title="Stopclock escalation service",
        description="Reminders, manager escalations, auto-resolution and the responsiveness register.",
        outbox_table=outbox,
        processed_table=processed_events,
        consumers=lambda rt: [event_consumer(rt)],
    )
