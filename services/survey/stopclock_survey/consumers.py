"""Event type -> handler for the survey service; thin: decode, dispatch."""

from __future__ import annotations

from stopclock_shared.consumer import EventConsumer, Handler
from stopclock_shared.events.topics import TICKETS_EVENTS, SLA_EVENTS
from stopclock_shared.runtime import Runtime

HANDLERS: dict[str, Handler] = {}


def event_consumer(runtime: Runtime) -> EventConsumer:
    return EventConsumer(
        service=runtime.settings.service_name,
        name="survey-events",
        topics=[TICKETS_EVENTS, SLA_EVENTS],
        handlers=HANDLERS,
        sessionmaker=runtime.sessionmaker,
        processed=runtime.processed,
        producer=runtime.producer,
        bootstrap=runtime.settings.kafka_bootstrap,
        group_id=runtime.settings.group_id,
    )
