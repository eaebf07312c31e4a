"""The `tickets.events` consumer of the sla service; thin: decode, dispatch, reschedule."""

from __future__ import annotations

from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.consumer import EventConsumer, Handler
from stopclock_shared.db import utc_now
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.types import EventType
from stopclock_shared.runtime import Runtime

from . import metrics, service
from .catalog import Catalog
from .settings import SlaSettings
from .timers import SlaTimers

TICKETS_CONSUMER = "sla-tickets"
FETCH_MAX_WAIT_MS = 100
TICKET_EVENTS = (
    EventType.TICKET_CREATED,
    EventType.TICKET_UPDATED,
    EventType.TICKET_STATUS_CHANGED,
    EventType.TICKET_COMMENTED,
    EventType.TICKET_PRIORITY_CHANGED,
)


def event_consumer(runtime: Runtime) -> EventConsumer:
    settings = runtime.settings
    assert isinstance(settings, SlaSettings)
    catalog: Catalog = runtime.extras["catalog"]
    timers: SlaTimers = runtime.extras["timers"]

    async def on_ticket_event(
        session: AsyncSession, env: Envelope, data: Any, record: ConsumerRecord[bytes, bytes]
    ) -> None:
        saved = await service.apply_ticket_event(
            session,
            runtime.outbox,
            catalog,
            env,
            data,
            record.partition,
            utc_now(),
            topic=settings.events_topic,
        )
        timers.after_commit(session, [saved])
        if (gain := saved.audit) is not None:
            event.listen(
                session.sync_session,
                "after_commit",
                lambda _s: metrics.count_audit(gain.waits, gain.business_us, gain.paused_us),
                once=True,
            )

    handlers: dict[str, Handler] = {t.value: on_ticket_event for t in TICKET_EVENTS}
    return EventConsumer(
        service=settings.service_name,
        name=TICKETS_CONSUMER,
        topics=[settings.tickets_topic],
        handlers=handlers,
        sessionmaker=runtime.sessionmaker,
        processed=runtime.processed,
        producer=runtime.producer,
        bootstrap=settings.kafka_bootstrap,
        group_id=settings.group_id,
        on_assigned=timers.on_assigned,
        on_revoked=timers.on_revoked,
        # Idle partitions answered every 0.1 s: the event-time marks that hold due timers
        # follow answers (docs/sla-timing.md).
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
    )
