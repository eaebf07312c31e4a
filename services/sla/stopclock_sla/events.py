"""Builders of the `sla.events` envelopes: clock events with the ticket they are about, and
calendar versions.

Payload (docs/events.md): `events.sla.SlaClockEvent` (`fraction` only on warnings,
`breached_at` once breached) and `events.sla.CalendarUpdated`. The envelope `time` is the
event time: for a warning or a breach, the instant the threshold was reached, not when a
timer noticed it.

`SlaRetargeted` has no public type: it is not published (the clocks' new figures show in
the read API, and the next warning or breach carries them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Final

from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.sla import CalendarUpdated, SlaClockEvent
from stopclock_shared.events.tickets import TicketSnapshot
from stopclock_shared.events.types import EventType
from stopclock_sla.domain import SlaEvent
from stopclock_sla.domain.events import SlaEventBase

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


def clock_event(event: SlaEvent, ticket: TicketSnapshot) -> SlaClockEvent:
    """The payload announcing `event` with the ticket's latest snapshot.

    Built, not validated: its parts are typed already, and this is the hot path of every
    ticket event and timer (the contract test on the topics checks what is published).
    """
    told = {name: getattr(event, name) for name in _TOLD}
    told["fraction"] = getattr(event, "fraction", None)  # a warning's
    return SlaClockEvent.model_construct(**told, ticket_number=ticket.number, ticket=ticket)


# What every clock event tells (not `dataclasses.asdict`: it deep-copies, 10x slower).
_TOLD: Final = tuple(f.name for f in fields(SlaEventBase))
_OPTIONAL: Final = ("fraction", "breached_at")


def _wire(payload: SlaClockEvent, ticket: dict[str, object]) -> dict[str, object]:
    # Optional members appear only when they have a value (docs/events.md). The ticket's
    # JSON is made once for all the events of one change.
    absent = {name for name in _OPTIONAL if getattr(payload, name) is None}
    return {**payload.model_dump(mode="json", exclude={"ticket", *absent}), "ticket": ticket}


def sla_envelope(
    event: SlaEvent,
    ticket: TicketSnapshot,
    cause: Envelope | None = None,
    ticket_json: dict[str, object] | None = None,
) -> Envelope | None:
    """The envelope announcing `event`; None if it is not published."""
    type_ = published_type(event)
    if type_ is None:
        return None
    ticket_json = ticket.model_dump(mode="json") if ticket_json is None else ticket_json
    return new_envelope(
        type_,
        source=SOURCE,
        subject=event.ticket_id,
        time=event.at,
        data=_wire(clock_event(event, ticket), ticket_json),
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
    the ticket's JSON form when the caller has it already (as stored)."""
    published = [e for e in events if published_type(e) is not None]
    if not published:
        return []
    if ticket_json is None:
        ticket_json = ticket.model_dump(mode="json")
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
        data=payload.model_dump(mode="json"),
    )
