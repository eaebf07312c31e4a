"""``sla.events`` (key: ticket id; calendars: their name): what SLA clocks did."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime

from .payload import Payload
from .tickets import TicketSnapshot

TargetName = Literal["first_response", "resolution"]
ClockState = Literal["running", "paused", "met", "breached", "cancelled"]


class SlaClockEvent(Payload):
    """A clock started, paused, resumed, warned, breached, was met or cancelled.

    ``at`` is the event time: for a warning or a breach, the instant the threshold was
    reached. ``fraction`` only on warnings; ``breached_at`` once breached.
    """

    ticket_id: str
    ticket_number: str | None
    policy: str
    policy_version: int
    target: TargetName
    state: ClockState
    at: AwareDatetime
    started_at: AwareDatetime
    due_at: AwareDatetime
    elapsed_seconds: float
    fraction: float | None = None
    breached_at: AwareDatetime | None = None
    ticket: TicketSnapshot


class CalendarUpdated(Payload):
    """A calendar version (the escalation service keeps its copy of calendars from it)."""

    name: str
    spec: dict[str, Any]
    updated_at: AwareDatetime
