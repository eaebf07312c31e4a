"""SLA service metrics (catalogue: docs/metrics.md, "SLA service")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prometheus_client import Counter, Gauge, Histogram

from stopclock_shared.business_time import US_PER_SECOND
from stopclock_shared.events.vocabulary import WaitingReason
from stopclock_shared.timers import LAG_BUCKETS
from stopclock_sla.domain.policy import PRIORITIES, TARGET_NAMES
from stopclock_sla.domain.states import CLOCK_STATES

__all__ = [
    "BREACHES",
    "CLOCKS",
    "CLOCK_STATES",
    "LATE_FACTS",
    "MET",
    "RESOLUTION_BUSINESS",
    "RESOLUTION_PAUSED",
    "TIMERS_SCHEDULED",
    "TIMER_HOLD",
    "TIMER_LAG",
    "WAITS",
    "WARNINGS",
]
WAIT_REASONS = tuple(WaitingReason)

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
WAITS = Counter(
    "stopclock_sla_waits_total",
    "Waits set on tickets (entries into waiting_on_user); question is asked when the "
    "transition had a note or a public desk comment came before it, else none",
    ["reason", "question"],
)
RESOLUTION_BUSINESS = Counter(
    "stopclock_sla_resolution_business_seconds_total",
    "Business seconds counted by resolution clocks, pauses included (added at each fact)",
)
RESOLUTION_PAUSED = Counter(
    "stopclock_sla_resolution_paused_seconds_total",
    "Business seconds resolution clocks spent paused, by waiting reason or pause status "
    "(resolved: between a resolution and a reopening)",
    ["reason"],
)


def count_audit(
    waits: Sequence[tuple[str, bool]], business_us: int, paused_us: Mapping[str, int]
) -> None:
    """Count what one committed fact added to the pause audit (service.AuditGain)."""
    for reason, asked in waits:
        WAITS.labels(reason, "asked" if asked else "none").inc()
    if business_us:
        RESOLUTION_BUSINESS.inc(business_us / US_PER_SECOND)
    for reason, us in paused_us.items():
        RESOLUTION_PAUSED.labels(reason).inc(us / US_PER_SECOND)


def create_series() -> None:
    """Counters start at 0 for every known label value, so `increase()` sees the first one."""
    for target in TARGET_NAMES:
        WARNINGS.labels(target)
        MET.labels(target)
        for priority in sorted(PRIORITIES):
            BREACHES.labels(target, priority)
    for state in CLOCK_STATES:
        CLOCKS.labels(state)
    for reason in WAIT_REASONS:
        WAITS.labels(reason, "asked")
        WAITS.labels(reason, "none")
        RESOLUTION_PAUSED.labels(reason)
