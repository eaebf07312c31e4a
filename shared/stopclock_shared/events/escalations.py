"""``escalations.events`` (key: ticket id): reminders, the manager rule, the desk's alerts."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from .payload import Payload
from .people import PersonRef
from .tickets import TicketSnapshot
from .vocabulary import NextStep


class RequesterReminded(Payload):
    """Reminder ``level`` of ``of`` sent to a requester who has not answered."""

    ticket: TicketSnapshot
    level: int
    of: int
    next_step: NextStep
    deadline: AwareDatetime


class ManagerEscalated(Payload):
    """The manager rule held: the requester's manager (or the desk manager) is told."""

    ticket: TicketSnapshot
    manager: PersonRef | None
    to_desk_manager: bool
    desk_manager_email: str
    unanswered_episodes: int


class AutoResolved(Payload):
    """The ticket is resolved for lack of response (a resolve command follows)."""

    ticket: TicketSnapshot
    resolution: str


class SlaEscalated(Payload):
    """An SLA warning or breach, for the assignee and the desk manager."""

    ticket: TicketSnapshot
    target: str
    kind: Literal["warning", "breach"]
    fraction: float | None = None
    due_at: AwareDatetime | None
    desk_manager_email: str


class NegativeFeedbackEscalated(Payload):
    """A requester's negative survey answer, for the desk manager."""

    ticket: TicketSnapshot
    rating: int
    resolved: bool
    comment: str | None
    desk_manager_email: str
