"""The `sla.events` envelopes: domain events plus the ticket they are about.

Payload (docs/events.md): `{ticket_id, ticket_number, policy, target, state, due_at,
started_at, fraction?, breached_at?, elapsed_seconds, ticket}`, plus `policy_version` and
`at`. The envelope `time` is the event time: for a warning or a breach, the instant the
threshold was reached, not when a timer noticed it.

`SlaRetargeted` has no public type: it is not published (the clocks' new figures show in
the read API, and the next warning or breach carries them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.types import EventType
from stopclock_sla.domain import (
    SlaBreached,
    SlaCancelled,
    SlaEvent,
    SlaMet,
    SlaPaused,
    SlaResumed,
    SlaStarted,
    SlaWarning,
)

SOURCE: Final = "stopclock/sla"
# Not in the shared EventType yet: the escalation service keeps its copy of calendars from it.
CALENDAR_UPDATED: Final = EventType.SLA_CALENDAR_UPDATED.value

EVENT_TYPES: Final[Mapping[type[Any], str]] = {
    SlaStarted: EventType.SLA_STARTED,
    SlaPaused: EventType.SLA_PAUSED,
    SlaResumed: EventType.SLA_RESUMED,
    SlaWarning: EventType.SLA_WARNING,
    SlaBreached: EventType.SLA_BREACHED,
    SlaMet: EventType.SLA_MET,
    SlaCancelled: EventType.SLA_CANCELLED,
}


def published_type(event: SlaEvent) -> str | None:
    """The public event type of a domain event; None for internal ones (retargeting)."""
    return EVENT_TYPES.get(type(event))


def sla_envelope(
    event: SlaEvent, ticket: Mapping[str, Any], cause: Envelope | None = None
) -> Envelope | None:
    """The envelope announcing `event` with the latest ticket snapshot; None if unpublished."""
    type_ = published_type(event)
    if type_ is None:
        return None
    data = {**event.to_data(), "ticket_number": ticket.get("number"), "ticket": dict(ticket)}
    return new_envelope(
        type_, source=SOURCE, subject=event.ticket_id, time=event.at, data=data, cause=cause
    )


def calendar_envelope(name: str, spec: Mapping[str, Any], updated_at: datetime) -> Envelope:
    """`stopclock.sla.calendar_updated.v1` with data exactly `{name, spec, updated_at}`."""
    return new_envelope(
        CALENDAR_UPDATED,
        source=SOURCE,
        subject=name,
        time=updated_at,
        data={"name": name, "spec": dict(spec), "updated_at": updated_at.isoformat()},
    )
