"""Topic names of the contract; every consumed topic has a ``<topic>.dlq`` beside it."""

from __future__ import annotations

TICKETS_EVENTS = "tickets.events"
TICKETS_COMMANDS = "tickets.commands"
SLA_EVENTS = "sla.events"
ESCALATIONS_EVENTS = "escalations.events"
SURVEYS_EVENTS = "surveys.events"
OUTAGES_EVENTS = "outages.events"
NOTIFICATIONS_EVENTS = "notifications.events"
# Additive: person snapshots keyed by person id (the directory's changes).
PEOPLE_EVENTS = "people.events"

ALL_TOPICS = (
    TICKETS_EVENTS,
    TICKETS_COMMANDS,
    SLA_EVENTS,
    ESCALATIONS_EVENTS,
    SURVEYS_EVENTS,
    OUTAGES_EVENTS,
    NOTIFICATIONS_EVENTS,
    PEOPLE_EVENTS,
)


def dlq(topic: str) -> str:
    return f"{topic}.dlq"
