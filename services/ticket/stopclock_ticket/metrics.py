"""Ticket service metrics (catalogue: docs/metrics.md)."""

from prometheus_client import Counter, Gauge

TICKETS_CREATED = Counter("stopclock_tickets_created_total", "Tickets opened", ["type", "priority"])
TRANSITIONS = Counter(
    "stopclock_ticket_transitions_total", "Status changes", ["from_status", "to_status"]
)
TICKETS_OPEN = Gauge("stopclock_tickets_open", "Open tickets", ["status", "priority"])
