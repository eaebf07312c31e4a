"""Builders of the `sla.events` envelopes: clock events with the ticket they are about, and
calendar versions.

Payload (docs/events.md): `events.sla.SlaClockEvent` (`fraction` only on warnings,
`breached_at` once breached) and `events.sla.CalendarUpdated`. The envelope `time` is the
event time: for a warning or a breach, the instant the threshold was reached, not when a
timer noticed it. Data is written as every producer writes it (`payload.wire_values`:
isoformat times, `+00:00`).

`SlaRetargeted` has no public type: it is not published (the clocks' new figures show in
the read API, and the next warning or breach carries them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final

from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.payload import wire_values
from stopclock_shared.events.sla import CalendarUpdated, SlaClockEvent
from stopclock_shared.events.tickets import TicketSnapshot
from stopclock_shared.events.types import EventType
from stopclock_sla.domain import SlaEvent

from .repository import Outgoing

SOURCE: Final = "stopclock/sla"

EVENT_TYPES: Final[Mapping[str, EventType]] = {
    "started": EventType.SLA_STARTED,
    "paused": EventType.SLA_PAUSED,
    "resumed": EventType.SLA_RESUMED,
    "warning": EventType.SLA_WARNING,
    "breached": EventType.SLA_BREACHED,
    "met": EventType.SLA_MET,
    "cancelled": EventType.SLA_CANCELLED,
}
"""Public type by the domain event's `kind` (a retargeting has none)."""


def published_type(event: SlaEvent) -> EventType | None:
    """The public event type of a domain event; None for internal ones (retargeting)."""
    return EVENT_TYPES.get(event.kind)


# The members of a `SlaClockEvent` in its field order, but the ticket (its JSON is made once
# for all the events of one change).
_MEMBERS: Final = tuple(name for name in SlaClockEvent.model_fields if name != "ticket")
_OPTIONAL: Final = frozenset({"fraction", "breached_at"})  # a warning's; once breached


def _data(event: SlaEvent, number: str, ticket_json: dict[str, object]) -> dict[str, object]:
    """The `SlaClockEvent` announcing `event` (with the ticket's JSON as given), as published.

    Plain values, not a model: this is the hot path of every ticket event and timer, and
    building and dumping a model would triple the cost of the members (the contract test on
    the topics checks what is published). Written by the rule of every producer,
    `wire_values` (as `Payload.wire()`: isoformat times). An optional member appears only
    when it has a value (docs/events.md).
    """
    told: dict[str, object] = {}
    for name in _MEMBERS:
        if name == "ticket_number":
            told[name] = number
        elif name not in _OPTIONAL:
            told[name] = getattr(event, name)
        elif (value := getattr(event, name, None)) is not None:
            told[name] = value
    data = wire_values(told)
    data["ticket"] = ticket_json
    return data


def sla_envelope(
    event: SlaEvent,
    ticket: TicketSnapshot,
    cause: Envelope | None = None,
    ticket_json: dict[str, object] | None = None,
) -> Envelope | None:
    """The envelope announcing `event`; None if it is not published. `ticket_json`: the
    ticket's JSON as published (`ticket.wire()`, made here when not given)."""
    type_ = published_type(event)
    if type_ is None:
        return None
    return new_envelope(
        type_,
        source=SOURCE,
        subject=event.ticket_id,
        time=event.at,
        data=_data(event, ticket.number, ticket.wire() if ticket_json is None else ticket_json),
        cause=cause,
    )


def sla_envelopes(
    events: Iterable[SlaEvent],
    ticket: TicketSnapshot,
    topic: str,
    cause: Envelope | None = None,
    ticket_json: dict[str, object] | None = None,
) -> list[Outgoing]:
    """(topic, ticket id, envelope) of the published ones among `events`; `ticket_json`:
    the ticket's JSON as published when the caller has it already (as stored)."""
    published = [e for e in events if published_type(e) is not None]
    if not published:
        return []
    if ticket_json is None:
        ticket_json = ticket.wire()
    out = []
    for event in published:
        env = sla_envelope(event, ticket, cause, ticket_json)
        assert env is not None
        out.append((topic, event.ticket_id, env))
    return out


def calendar_envelope(name: str, spec: Mapping[str, object], updated_at: datetime) -> Envelope:
    """`stopclock.sla.calendar_updated.v1` with data exactly `{name, spec, updated_at}`."""
    payload = CalendarUpdated(name=name, spec=dict(spec), updated_at=updated_at)
    return new_envelope(
        EventType.SLA_CALENDAR_UPDATED,
        source=SOURCE,
        subject=name,
        time=updated_at,
        data=payload.wire(),
    )
