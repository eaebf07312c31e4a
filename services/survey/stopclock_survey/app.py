"""The survey service app."""

from __future__ import annotations

from fastapi import FastAPI

from stopclock_shared.runtime import create_service_app
from stopclock_shared.settings import Settings

from .consumers import event_consumer
from .models import outbox, processed_events


class SurveySettings(Settings):
    service_name: str = "survey"


def create_app(settings: SurveySettings | None = None) -> FastAPI:
    settings = settings or SurveySettings()
    return create_service_app(
        settings,
        title="Stopclock survey service",
        description="Satisfaction surveys after resolution, and CSAT.",
        outbox_table=outbox,
        processed_table=processed_events,
        consumers=lambda rt: [event_consumer(rt)],
    )
