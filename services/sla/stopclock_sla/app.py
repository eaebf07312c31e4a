"""The sla service app."""

from __future__ import annotations

from fastapi import FastAPI

from stopclock_shared.runtime import create_service_app
from stopclock_shared.settings import Settings

from .consumers import event_consumer
from .models import outbox, processed_events


class SlaSettings(Settings):
    service_name: str = "sla"


def create_app(settings: SlaSettings | None = None) -> FastAPI:
    settings = settings or SlaSettings()
    return create_service_app(
        settings,
        title="Stopclock sla service",
        description="SLA policies, business calendars and per-ticket clocks.",
        outbox_table=outbox,
        processed_table=processed_events,
        consumers=lambda rt: [event_consumer(rt)],
    )
