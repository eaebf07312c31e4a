"""Event type -> use case for the escalation service; thin: typed event in, use case called.

Not ticket.created: a ticket's events are ordered, so no waiting episode exists before its
creation is seen, and there is no snapshot to refresh.
"""

from __future__ import annotations

from stopclock_shared.consumer import EventConsumer
from stopclock_shared.event_routes import Delivery, Routes
from stopclock_shared.events.sla import CalendarUpdated, SlaClockEvent
from stopclock_shared.events.surveys import SurveyAnswered
from stopclock_shared.events.tickets import (
    TicketCommented,
    TicketPriorityChanged,
    TicketStatusChanged,
    TicketUpdated,
)
from stopclock_shared.events.topics import SLA_EVENTS, SURVEYS_EVENTS, TICKETS_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.outbox import Outbox
from stopclock_shared.runtime import Runtime
from stopclock_shared.unit_of_work import SqlUnitOfWork

from .ladder_timers import LadderTimers
from .repository import SqlEscalationRepository, unit_of_work
from .settings import EscalationSettings
from .use_cases import alerts, episodes
from .use_cases.calendars import keep_calendar


def routes(outbox: Outbox, timers: LadderTimers, settings: EscalationSettings) -> Routes:
    """Each handler beside the event types it applies."""
    desk = settings.desk_manager_email
    routes = Routes()

    def uow(delivery: Delivery) -> SqlUnitOfWork[SqlEscalationRepository]:
        return unit_of_work(delivery.session, outbox)

    async def on_status_changed(event: TicketStatusChanged, delivery: Delivery) -> None:
        envelope = delivery.envelope
        changes = await episodes.status_changed(
            uow(delivery),
            event,
            at=envelope.time,
            partition=delivery.partition,
            correlation_id=envelope.correlationid or envelope.id,
            desk_manager_email=desk,
        )
        if changes:
            delivery.after_commit(lambda: timers.apply(changes))

    routes.on(EventType.TICKET_STATUS_CHANGED, on_status_changed)

    async def on_ticket_changed(
        event: TicketUpdated | TicketPriorityChanged, delivery: Delivery
    ) -> None:
        await episodes.ticket_changed(uow(delivery), event.ticket)

    routes.on(EventType.TICKET_UPDATED, on_ticket_changed)
    routes.on(EventType.TICKET_PRIORITY_CHANGED, on_ticket_changed)

    async def on_commented(event: TicketCommented, delivery: Delivery) -> None:
        await episodes.commented(uow(delivery), event, delivery.envelope.time)

    routes.on(EventType.TICKET_COMMENTED, on_commented)

    async def on_sla_warning(event: SlaClockEvent, delivery: Delivery) -> None:
        await alerts.sla_alert(
            uow(delivery), event, breach=False, cause=delivery.envelope, desk_manager_email=desk
        )

    async def on_sla_breached(event: SlaClockEvent, delivery: Delivery) -> None:
        await alerts.sla_alert(
            uow(delivery), event, breach=True, cause=delivery.envelope, desk_manager_email=desk
        )

    routes.on(EventType.SLA_WARNING, on_sla_warning)
    routes.on(EventType.SLA_BREACHED, on_sla_breached)

    async def on_calendar_updated(event: CalendarUpdated, delivery: Delivery) -> None:
        await keep_calendar(uow(delivery), event)

    routes.on(EventType.SLA_CALENDAR_UPDATED, on_calendar_updated)

    async def on_negative_survey(event: SurveyAnswered, delivery: Delivery) -> None:
        await alerts.negative_feedback(
            uow(delivery), event, cause=delivery.envelope, desk_manager_email=desk
        )

    return routes.on(EventType.SURVEY_NEGATIVE, on_negative_survey)


def event_consumer(
    runtime: Runtime, settings: EscalationSettings, timers: LadderTimers
) -> EventConsumer:
    """The consumer of ticket, SLA and survey events; its partition hooks feed the timers."""
    return runtime.consumer(
        "escalation-events",
        [TICKETS_EVENTS, SLA_EVENTS, SURVEYS_EVENTS],
        routes(runtime.outbox, timers, settings),
        on_assigned=timers.on_assigned,
        on_revoked=timers.on_revoked,
    )
