"""SLA service metrics (catalogue: docs/metrics.md, "SLA service")."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from stopclock_shared.timers import LAG_BUCKETS
from stopclock_sla.domain.policy import PRIORITIES, TARGET_NAMES
from stopclock_sla.domain.states import CLOCK_STATES

__all__ = [
    "BREACHES",
    "CLOCKS",
    "CLOCK_STATES",
    "LATE_FACTS",
    "MET",
    "TIMERS_SCHEDULED",
    "TIMER_HOLD",
    "TIMER_LAG",
    "WARNINGS",
]

CLOCKS = Gauge(
    "stopclock_sla_clocks",
    "SLA clocks by state (exported by the outbox-relay leader only, so sums are right)",
    ["state"],
)
TIMER_LAG = Histogram(
    "stopclock_sla_timer_lag_seconds",
    "Delay between a warning or breach timer's due time and when it fired",
    buckets=LAG_BUCKETS,
)
TIMER_HOLD = Histogram(
    "stopclock_sla_timer_hold_seconds",
    "How long a due warning or breach timer waited for its partition's event-time mark "
    "(every fact up to its due time applied) before deciding; 0 when it could decide at once",
    buckets=(0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 5, 10, 30, 60),
)
LATE_FACTS = Counter(
    "stopclock_sla_late_facts_total",
    "Ticket facts older than a warning or breach already decided for the ticket, applied at "
    "that decision's time instead (the ticket service's relay lag exceeded the breach grace)",
)
TIMERS_SCHEDULED = Gauge("stopclock_sla_timers_scheduled", "Timers held in memory by this replica")
WARNINGS = Counter("stopclock_sla_warnings_total", "SLA warnings sent", ["target"])
BREACHES = Counter(
    "stopclock_sla_breaches_total",
    "SLA clocks that reached 100 % of their target",
    ["target", "priority"],
)
MET = Counter("stopclock_sla_met_total", "SLA clocks that reached their target in time", ["target"])


def create_series() -> None:
    """Counters start at 0 for every known label value, so `increase()` sees the first one."""
    for target in TARGET_NAMES:
        WARNINGS.labels(target)
        MET.labels(target)
        for priority in sorted(PRIORITIES):
            BREACHES.labels(target, priority)
    for state in CLOCK_STATES:
        CLOCKS.labels(state)
