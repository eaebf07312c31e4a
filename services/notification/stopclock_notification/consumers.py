"""Event type -> handler for the notification service: decoding (by the shared models) and
routing only. Mailed events record their mails; ticket and person events also refresh the
replicas inbound mail decides on."""

from __future__ import annotations

from stopclock_shared.consumer import EventConsumer
from stopclock_shared.db import utc_now
from stopclock_shared.event_routes import Delivery, Routes
from stopclock_shared.events import tickets
from stopclock_shared.events.people import PersonUpdated
from stopclock_shared.events.topics import (
    ESCALATIONS_EVENTS,
    OUTAGES_EVENTS,
    PEOPLE_EVENTS,
    SLA_EVENTS,
    SURVEYS_EVENTS,
    TICKETS_EVENTS,
)
from stopclock_shared.events.types import EventType as T
from stopclock_shared.outbox import Outbox
from stopclock_shared.runtime import Runtime, state_of

from .domain import MAILED_EVENT_TYPES, Desk, MailedEvent
from .repository import sql_unit_of_work
from .settings import NotificationSettings
from .state import NotificationState
from .use_cases import NotificationUnitOfWork
from .use_cases.mails import record_mails
from .use_cases.replicas import refresh_person, refresh_ticket

# sla.events carries nothing mailed (its facts reach people through escalations.events), but
# the group has always read it; survey.negative likewise.
TOPICS = [
    TICKETS_EVENTS,
    SLA_EVENTS,
    ESCALATIONS_EVENTS,
    SURVEYS_EVENTS,
    OUTAGES_EVENTS,
    PEOPLE_EVENTS,
]


# Every tickets.events type refreshes the ticket replica that inbound mail threads by.
TICKET_MAILED = frozenset({T.TICKET_CREATED, T.TICKET_STATUS_CHANGED})
TICKET_NOT_MAILED = frozenset({T.TICKET_UPDATED, T.TICKET_COMMENTED, T.TICKET_PRIORITY_CHANGED})


def desk_of(s: NotificationSettings) -> Desk:
    """What planning needs of the settings."""
    return Desk(s.public_survey_url, s.desk_locale, s.desk_timezone, s.link_key, s.public_sla_url)


def routes(outbox: Outbox, desk: Desk, state: NotificationState) -> Routes:
    """The handlers of every event type the service acts on."""

    async def record(uow: NotificationUnitOfWork, event: MailedEvent, delivery: Delivery) -> None:
        await record_mails(
            uow,
            event,
            delivery.envelope,
            desk=desk,
            now=utc_now(),
            wake_sender=state.wakeup.wake_one,
            written=state.written,
        )

    async def ticket_mail(
        event: tickets.TicketCreated | tickets.TicketStatusChanged, delivery: Delivery
    ) -> None:
        uow = sql_unit_of_work(delivery.session, outbox)
        await refresh_ticket(uow, event.ticket)
        await record(uow, event, delivery)

    async def ticket(
        event: tickets.TicketUpdated | tickets.TicketCommented | tickets.TicketPriorityChanged,
        delivery: Delivery,
    ) -> None:
        await refresh_ticket(sql_unit_of_work(delivery.session, outbox), event.ticket)

    async def person(event: PersonUpdated, delivery: Delivery) -> None:
        uow = sql_unit_of_work(delivery.session, outbox)
        await refresh_person(uow, event.person, delivery.envelope.time)

    async def mail(event: MailedEvent, delivery: Delivery) -> None:
        await record(sql_unit_of_work(delivery.session, outbox), event, delivery)

    table = Routes().on(T.PERSON_UPDATED, person)
    for mailed in MAILED_EVENT_TYPES - TICKET_MAILED:
        table.on(mailed, mail)
    for ticket_type in TICKET_MAILED:
        table.on(ticket_type, ticket_mail)
    for ticket_type in TICKET_NOT_MAILED:
        table.on(ticket_type, ticket)
    return table


def event_consumer(runtime: Runtime) -> EventConsumer:
    """The group member that records mails (and refreshes replicas) from every topic."""
    assert isinstance(runtime.settings, NotificationSettings)
    state = state_of(runtime, NotificationState)
    table = routes(runtime.outbox, desk_of(runtime.settings), state)
    return runtime.consumer("notification-events", TOPICS, table)
