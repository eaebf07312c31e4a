"""The survey service app: the survey page, the surveys and stats API, the events consumer,
the expiry sweep and the outbox relay."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from fastapi import FastAPI

from stopclock_shared.db import utc_now
from stopclock_shared.runtime import Runtime, create_service_app

from . import service
from .api import router as api_router
from .consumers import event_consumer
from .models import outbox, processed_events
from .page import router as page_router
from .settings import SurveySettings

__all__ = ["SurveySettings", "create_app"]
log = logging.getLogger(__name__)


async def expire_surveys(runtime: Runtime, interval: float) -> None:
    """Mark unanswered surveys past their expiry, once per ``interval`` (safe on N replicas)."""
    while True:
        async with runtime.sessionmaker() as session, session.begin():
            count = await service.expire_due(session, utc_now())
        if count:
            log.info("%d surveys expired unanswered", count)
        await asyncio.sleep(interval)


def tasks(runtime: Runtime) -> Sequence[tuple[str, Callable[[], Awaitable[None]]]]:
    settings = runtime.settings
    assert isinstance(settings, SurveySettings)
    interval = settings.survey_expiry_interval_seconds
    return [("survey-expiry", lambda: expire_surveys(runtime, interval))]


def create_app(settings: SurveySettings | None = None) -> FastAPI:
    settings = settings or SurveySettings()
    return create_service_app(
        settings,
        title="Stopclock survey service",
        description=(
            "Satisfaction surveys after resolution, the survey page and CSAT. A ticket "
            "resolved for lack of response gets no survey."
        ),
        outbox_table=outbox,
        processed_table=processed_events,
        routers=[api_router, page_router],
        consumers=lambda rt: [event_consumer(rt)],
        tasks=tasks,
    )
