"""Event type -> handler for the escalation service; thin: decode, dispatch."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeAlias

from aiokafka import ConsumerRecord
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.consumer import EventConsumer, Handler
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.models import TicketCommented, TicketStatusChanged
from stopclock_shared.events.topics import SLA_EVENTS, SURVEYS_EVENTS, TICKETS_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.events.vocabulary import NoteKind
from stopclock_shared.runtime import Runtime

from . import notices, waiting
from .calendars import CALENDAR_UPDATED
from .ladder_timers import LadderTimers
from .settings import EscalationSettings

Record: TypeAlias = ConsumerRecord[bytes, bytes]


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the consumer's transaction has committed (never on rollback)."""
    event.listen(session.sync_session, "after_commit", lambda _: callback(), once=True)


def handlers(
    timers: LadderTimers, settings: EscalationSettings, runtime: Runtime
) -> dict[str, Handler]:
    outbox = runtime.outbox
    desk = settings.desk_manager_email

    async def status_changed(
        session: AsyncSession, env: Envelope, data: Any, record: Record
    ) -> None:
        assert isinstance(data, TicketStatusChanged)
        change = waiting.StatusChange(
            ticket=env.data["ticket"],
            from_status=data.from_status,
            to_status=data.to_status,
            reason=data.reason,
            actor_id=data.actor_id,
            at=env.time,
            partition=record.partition,
            correlation_id=env.correlationid or env.id,
        )
        changes = await waiting.status_changed(session, change, desk)
        if changes:
            after_commit(session, lambda: timers.apply(changes))

    async def ticket_changed(session: AsyncSession, env: Envelope, data: Any, _: Record) -> None:
        await waiting.remember_snapshot(session, env.data["ticket"])

    async def commented(session: AsyncSession, env: Envelope, data: Any, _: Record) -> None:
        assert isinstance(data, TicketCommented)
        await waiting.remember_snapshot(session, env.data["ticket"])
        # The mail gateway's note that the requester's out-of-office reply came in.
        if data.comment.note_kind == NoteKind.AUTO_REPLY:
            await waiting.requester_away(session, uuid.UUID(data.ticket.id), env.time)

    async def sla_warning(session: AsyncSession, env: Envelope, data: Any, _: Record) -> None:
        alert = notices.SlaAlert.model_validate(env.data)
        await notices.sla_alert(session, outbox, env, alert, breach=False, desk_manager_email=desk)

    async def sla_breached(session: AsyncSession, env: Envelope, data: Any, _: Record) -> None:
        alert = notices.SlaAlert.model_validate(env.data)
        await notices.sla_alert(session, outbox, env, alert, breach=True, desk_manager_email=desk)

    async def calendar_updated(session: AsyncSession, env: Envelope, data: Any, _: Record) -> None:
        await notices.calendar_updated(session, notices.CalendarUpdated.model_validate(env.data))

    async def survey_negative(session: AsyncSession, env: Envelope, data: Any, _: Record) -> None:
        feedback = notices.NegativeFeedback.model_validate(env.data)
        await notices.negative_feedback(session, outbox, env, feedback, desk_manager_email=desk)

    return {
        # Not ticket.created: a ticket's events are ordered, so no waiting episode exists
        # before its creation is seen, and there is no snapshot to refresh.
        EventType.TICKET_STATUS_CHANGED: status_changed,
        EventType.TICKET_UPDATED: ticket_changed,
        EventType.TICKET_COMMENTED: commented,
        EventType.TICKET_PRIORITY_CHANGED: ticket_changed,
        EventType.SLA_WARNING: sla_warning,
        EventType.SLA_BREACHED: sla_breached,
        CALENDAR_UPDATED: calendar_updated,
        EventType.SURVEY_NEGATIVE: survey_negative,
    }


def event_consumer(runtime: Runtime) -> EventConsumer:
    timers: LadderTimers = runtime.extras["timers"]
    settings = runtime.settings
    assert isinstance(settings, EscalationSettings)
    return EventConsumer(
        service=settings.service_name,
        name="escalation-events",
        topics=[TICKETS_EVENTS, SLA_EVENTS, SURVEYS_EVENTS],
        handlers=handlers(timers, settings, runtime),
        sessionmaker=runtime.sessionmaker,
        processed=runtime.processed,
        producer=runtime.producer,
        bootstrap=settings.kafka_bootstrap,
        group_id=settings.group_id,
        on_assigned=timers.on_assigned,
        on_revoked=timers.on_revoked,
    )
