"""Settings of the sla service (`STOPCLOCK_*` environment variables)."""

from __future__ import annotations

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
