"""Event type -> handler for the notification service; thin: decode, dispatch."""

from __future__ import annotations

from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.consumer import EventConsumer, Handler
from stopclock_shared.db import utc_now
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.topics import (
    ESCALATIONS_EVENTS,
    OUTAGES_EVENTS,
    PEOPLE_EVENTS,
    SLA_EVENTS,
    SURVEYS_EVENTS,
    TICKETS_EVENTS,
)
from stopclock_shared.events.types import EventType
from stopclock_shared.runtime import Runtime

from . import replicas, service
from .domain import MAILED_EVENT_TYPES
from .rendered import RenderedMails, rendered_of
from .settings import NotificationSettings
from .wakeup import Wakeup, wakeup_of

TOPICS = [
    TICKETS_EVENTS,
    SLA_EVENTS,
    ESCALATIONS_EVENTS,
    SURVEYS_EVENTS,
    OUTAGES_EVENTS,
    PEOPLE_EVENTS,
]
# Every tickets.events type refreshes the ticket replica the inbound mail threads by.
TICKET_EVENT_TYPES = frozenset(
    {
        EventType.TICKET_CREATED,
        EventType.TICKET_UPDATED,
        EventType.TICKET_STATUS_CHANGED,
        EventType.TICKET_COMMENTED,
        EventType.TICKET_PRIORITY_CHANGED,
    }
)


def desk_of(settings: NotificationSettings) -> service.Desk:
    return service.Desk(
        survey_base_url=settings.public_survey_url,
        locale=settings.desk_locale,
        timezone=settings.desk_timezone,
        link_key=settings.link_key,
        policy_base_url=settings.public_sla_url,
    )


def handlers(
    desk: service.Desk, wakeup: Wakeup, rendered: RenderedMails | None = None
) -> dict[str, Handler]:
    """Every mailed event type records its mails (the senders do the rest, later); ticket
    and person events also refresh the replicas of inbound mail."""

    async def record(
        session: AsyncSession, envelope: Envelope, data: Any, _: ConsumerRecord[bytes, bytes]
    ) -> None:
        # The typed payload where the event has one (a dict otherwise): planning reads what
        # mails need and names what is missing.
        await service.record_mails_at_commit(
            session, envelope, desk, utc_now(), wakeup.after_commit, rendered, data
        )

    async def ticket_event(
        session: AsyncSession, envelope: Envelope, data: Any, msg: ConsumerRecord[bytes, bytes]
    ) -> None:
        await replicas.refresh_ticket(session, envelope)
        if envelope.type in MAILED_EVENT_TYPES:
            await record(session, envelope, data, msg)

    async def person_event(
        session: AsyncSession, envelope: Envelope, _: Any, __: ConsumerRecord[bytes, bytes]
    ) -> None:
        await replicas.refresh_person(session, envelope)

    found: dict[str, Handler] = dict.fromkeys(MAILED_EVENT_TYPES, record)
    found.update(dict.fromkeys(TICKET_EVENT_TYPES, ticket_event))
    found[EventType.PERSON_UPDATED] = person_event
    return found


def event_consumer(runtime: Runtime) -> EventConsumer:
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    return EventConsumer(
        service=settings.service_name,
        name="notification-events",
        topics=TOPICS,
        handlers=handlers(desk_of(settings), wakeup_of(runtime), rendered_of(runtime)),
        sessionmaker=runtime.sessionmaker,
        processed=runtime.processed,
        producer=runtime.producer,
        bootstrap=settings.kafka_bootstrap,
        group_id=settings.group_id,
    )
