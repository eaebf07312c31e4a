"""The survey service's events consumer: decoding and routing only.

``tickets.events`` feed the answer pages' replica of the waits (every ticket change) and
send a survey for a resolution; ``sla.events`` say which tickets breached a target (CSAT
after breach).
"""

from __future__ import annotations

from datetime import timedelta

from stopclock_shared.consumer import EventConsumer
from stopclock_shared.db import utc_now
from stopclock_shared.event_routes import Delivery, Routes
from stopclock_shared.events.sla import SlaClockEvent
from stopclock_shared.events.tickets import TicketStatusChanged
from stopclock_shared.events.topics import SLA_EVENTS, TICKETS_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.runtime import Runtime
from stopclock_shared.unit_of_work import SqlUnitOfWork

from .repository import SqlSurveyRepository, unit_of_work
from .settings import SurveySettings
from .use_cases import surveys, waits


def routes(runtime: Runtime, settings: SurveySettings) -> Routes:
    valid_for = timedelta(seconds=settings.survey_validity_seconds)

    def uow(delivery: Delivery) -> SqlUnitOfWork[SqlSurveyRepository]:
        return unit_of_work(delivery.session, runtime.outbox)

    async def on_ticket_event(event: waits.TicketEvent, delivery: Delivery) -> None:
        await waits.track_ticket(uow(delivery), event, delivery.envelope.time)

    async def on_status_changed(event: TicketStatusChanged, delivery: Delivery) -> None:
        work = uow(delivery)
        await waits.track_ticket(work, event, delivery.envelope.time)
        await surveys.request_survey(
            work,
            event,
            delivery.envelope,
            public_base=settings.public_survey_url,
            valid_for=valid_for,
            now=utc_now(),
        )

    async def on_sla_breached(event: SlaClockEvent, delivery: Delivery) -> None:
        await surveys.sla_breached(uow(delivery), event.ticket_id, delivery.envelope.time)

    routes = Routes().on(EventType.TICKET_STATUS_CHANGED, on_status_changed)
    # The answer pages' replica of the waits follows every ticket change.
    for type_ in (EventType.TICKET_CREATED, EventType.TICKET_UPDATED, EventType.TICKET_COMMENTED):
        routes.on(type_, on_ticket_event)
    return routes.on(EventType.SLA_BREACHED, on_sla_breached)


def event_consumer(runtime: Runtime, settings: SurveySettings) -> EventConsumer:
    return runtime.consumer(
        "survey-events", [TICKETS_EVENTS, SLA_EVENTS], routes(runtime, settings)
    )
