"""Event type -> handler for the survey service; thin: decode, dispatch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeAlias

from aiokafka import ConsumerRecord
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.consumer import EventConsumer, Handler
from stopclock_shared.db import utc_now
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.models import TicketStatusChanged
from stopclock_shared.events.topics import SLA_EVENTS, TICKETS_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.runtime import Runtime

from . import answers, metrics, service
from .settings import SurveySettings

Record: TypeAlias = ConsumerRecord[bytes, bytes]
RESOLVED = "resolved"


def handlers(runtime: Runtime, settings: SurveySettings) -> dict[str, Handler]:
    outbox = runtime.outbox
    valid_for = timedelta(seconds=settings.survey_validity_seconds)

    async def track(session: AsyncSession, env: Envelope, data: Any, _: Record) -> None:
        await answers.track(session, env, data)

    async def status_changed(session: AsyncSession, env: Envelope, data: Any, _: Record) -> None:
        assert isinstance(data, TicketStatusChanged)
        await answers.track(session, env, data)
        if data.to_status != RESOLVED:
            return
        ticket: dict[str, Any] = env.data["ticket"]
        # The ticket service says why it was resolved; older events only in the snapshot.
        reason = env.data.get("resolution_reason") or ticket.get("resolution_reason")
        sent = await service.ticket_resolved(
            session,
            outbox,
            env,
            ticket,
            reason,
            public_base=settings.public_survey_url,
            valid_for=valid_for,
            now=utc_now(),
        )
        if sent is not None:
            event.listen(
                session.sync_session, "after_commit", lambda _: metrics.SENT.inc(), once=True
            )

    async def sla_breached(session: AsyncSession, env: Envelope, data: Any, _: Record) -> None:
        await service.sla_breached(session, str(env.data["ticket_id"]), env.time)

    return {
        # The answer pages' replica of the waits follows every ticket change.
        EventType.TICKET_CREATED: track,
        EventType.TICKET_UPDATED: track,
        EventType.TICKET_COMMENTED: track,
        EventType.TICKET_STATUS_CHANGED: status_changed,
        EventType.SLA_BREACHED: sla_breached,
    }


def event_consumer(runtime: Runtime) -> EventConsumer:
    settings = runtime.settings
    assert isinstance(settings, SurveySettings)
    return EventConsumer(
        service=settings.service_name,
        name="survey-events",
        topics=[TICKETS_EVENTS, SLA_EVENTS],
        handlers=handlers(runtime, settings),
        sessionmaker=runtime.sessionmaker,
        processed=runtime.processed,
        producer=runtime.producer,
        bootstrap=settings.kafka_bootstrap,
        group_id=settings.group_id,
    )
