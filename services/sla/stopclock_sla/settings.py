"""Settings of the sla service (`STOPCLOCK_*` environment variables)."""

from __future__ import annotations

from pydantic import Field

from stopclock_shared.events.topics import SLA_EVENTS, TICKETS_EVENTS
from stopclock_shared.settings import Settings


class SlaSettings(Settings):
    service_name: str = "sla"
    # Seed the default-p1..p4 policies (24x7, order 1000) when they do not exist.
    default_policies: bool = True
    # The contract topics; benchmarks point a private instance at private topics so that
    # synthetic tickets never reach the other services of a running stack.
    tickets_topic: str = TICKETS_EVENTS
    events_topic: str = SLA_EVENTS
    clocks_gauge_seconds: float = 15.0
    # Timers decide on event time (docs/sla-timing.md): a ticket fact reaches Kafka within
    # this long of its event time while the broker is up (the ticket service's outbox relay
    # lag). Warnings and breaches are announced this much (plus two fetch rounds) after
    # their due time. Also the longest silence of a partition's fetch answers that is not a
    # gap, so it must exceed the consumer's fetch wait (0.1 s) well.
    sla_breach_grace_seconds: float = Field(default=0.5, ge=0.25, le=60.0)
    # After a gap (broker stalled or down, or this process frozen), how long answers must
    # flow again before deciding: the other services' outbox relays catch up meanwhile.
    sla_outage_grace_seconds: float = Field(default=5.0, ge=0.0, le=300.0)
