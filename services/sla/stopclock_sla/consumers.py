"""The `tickets.events` consumer of the sla service: typed routes to one use case, and the
ticket's timer rescheduled once committed."""

from __future__ import annotations

from stopclock_shared.consumer import EventConsumer
from stopclock_shared.db import utc_now
from stopclock_shared.event_routes import Delivery, Routes
from stopclock_shared.events.types import EventType
from stopclock_shared.outbox import Outbox
from stopclock_shared.runtime import Runtime, state_of

from . import use_cases
from .repository import unit_of_work
from .settings import SlaSettings
from .state import SlaState
from .use_cases import TicketEvent

TICKETS_CONSUMER = "sla-tickets"
# Idle partitions answered every 0.1 s: the event-time marks that hold due timers follow
# answers (docs/sla-timing.md).
FETCH_MAX_WAIT_MS = 100
TICKET_EVENTS = (
    EventType.TICKET_CREATED,
    EventType.TICKET_UPDATED,
    EventType.TICKET_STATUS_CHANGED,
    EventType.TICKET_COMMENTED,
    EventType.TICKET_PRIORITY_CHANGED,
)


def ticket_routes(state: SlaState, outbox: Outbox, topic: str) -> Routes:
    """Every ticket event moves the ticket's clocks the same way (`apply_ticket_event`)."""

    async def on_ticket_event(event: TicketEvent, delivery: Delivery) -> None:
        saved = await use_cases.apply_ticket_event(
            unit_of_work(delivery.session, outbox),
            state.cache,
            delivery.envelope,
            event,
            delivery.partition,
            utc_now(),
            topic=topic,
        )
        delivery.after_commit(lambda: state.timers.settle([saved]))

    routes = Routes()
    for type_ in TICKET_EVENTS:
        routes.on(type_, on_ticket_event)
    return routes


def event_consumer(runtime: Runtime) -> EventConsumer:
    """The group member applying `tickets.events`; it owns the timers of its partitions."""
    state = state_of(runtime, SlaState)
    settings = runtime.settings
    assert isinstance(settings, SlaSettings)
    return runtime.consumer(
        TICKETS_CONSUMER,
        [settings.tickets_topic],
        ticket_routes(state, runtime.outbox, settings.events_topic),
        on_assigned=state.timers.on_assigned,
        on_revoked=state.timers.on_revoked,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
    )
