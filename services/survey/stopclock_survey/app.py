"""The survey service app: the survey and answer pages, the surveys and stats API, the
events consumer, the expiry sweep and the outbox relay."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from stopclock_shared.db import utc_now
from stopclock_shared.runtime import Runtime, create_service_app

from .answer_page import router as answer_page_router
from .api import router as api_router
from .consumers import event_consumer
from .models import outbox, processed_events
from .repository import unit_of_work
from .settings import SurveySettings
from .survey_page import router as survey_page_router
from .use_cases import surveys

__all__ = ["SurveySettings", "create_app"]
log = logging.getLogger(__name__)


async def expire_surveys(runtime: Runtime, interval: float) -> None:
    """Mark unanswered surveys past their expiry, once per ``interval`` (safe on N replicas)."""
    while True:
        async with runtime.sessionmaker() as session, session.begin():
            count = await surveys.expire_due(unit_of_work(session, runtime.outbox), utc_now())
        if count:
            log.info("%d surveys expired unanswered", count)
        await asyncio.sleep(interval)


def create_app(settings: SurveySettings | None = None) -> FastAPI:
    config = settings or SurveySettings()
    interval = config.survey_expiry_interval_seconds
    return create_service_app(
        config,
        title="Stopclock survey service",
        description=(
            "The requester's pages: satisfaction surveys after resolution (the survey page "
            "and CSAT; a ticket resolved for lack of response gets no survey), and the "
            "answer pages of tickets waiting on their requester."
        ),
        outbox_table=outbox,
        processed_table=processed_events,
        routers=[api_router, survey_page_router, answer_page_router],
        consumers=lambda runtime: [event_consumer(runtime, config)],
        tasks=lambda runtime: [("survey-expiry", lambda: expire_surveys(runtime, interval))],
    )
