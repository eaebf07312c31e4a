"""Escalation service metrics (catalogue: docs/metrics.md)."""

from prometheus_client import Counter, Gauge, Histogram

TIMER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

REMINDERS = Counter(
    "stopclock_reminders_total", "Reminders sent to requesters who have not answered"
)
MANAGER_ESCALATIONS = Counter(
    "stopclock_manager_escalations_total", "Escalations to a manager", ["to"]
)
AUTO_RESOLVES = Counter(
    "stopclock_auto_resolves_total", "Tickets resolved for lack of response after the last reminder"
)
TIMER_LAG = Histogram(
    "stopclock_escalation_timer_lag_seconds",
    "Delay between a reminder or escalation timer's due time and when it fired",
    buckets=TIMER_BUCKETS,
)
EPISODES_OPEN = Gauge(
    "stopclock_waiting_episodes_open", "Tickets currently waiting on their requester"
)
TIMERS_SCHEDULED = Gauge(
    "stopclock_escalation_timers_scheduled",
    "Escalation timers held in memory by this replica (for the partitions it owns)",
)

# Created at 0 so that increase() sees the first escalation of each kind.
for _to in ("manager", "desk_manager"):
    MANAGER_ESCALATIONS.labels(_to)
