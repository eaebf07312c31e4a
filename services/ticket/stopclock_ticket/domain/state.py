"""The part of a ticket the domain rules read and change."""

from dataclasses import dataclass, replace
from datetime import datetime

from stopclock_ticket.domain.events import PriorityChanged
from stopclock_ticket.domain.priority import priority_for
from stopclock_ticket.domain.vocabulary import Impact, Priority, Status, Urgency, WaitingReason


@dataclass(frozen=True, slots=True)
class TicketState:
    """Status-related fields of a ticket.

    `version` is carried, never bumped here: the repository bumps it once per
    committed write, whatever mix of changes that write holds.
    """

    status: Status
    priority: Priority
    impact: Impact
    urgency: Urgency
    requester_id: str
    waiting_reason: WaitingReason | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: str | None = None
    version: int = 1
    # When the current wait on the requester began (None unless waiting_on_user): it names
    # the wait, so an answer link made for an earlier wait never answers this one.
    waiting_since: datetime | None = None


def open_ticket(requester_id: str, impact: Impact, urgency: Urgency) -> TicketState:
    """State of a just-created ticket: `new`, priority from the matrix, version 1."""
    return TicketState(
        status=Status.NEW,
        priority=priority_for(impact, urgency),
        impact=Impact(impact),
        urgency=Urgency(urgency),
        requester_id=requester_id,
    )


def recompute_priority(
    state: TicketState, impact: Impact | None = None, urgency: Urgency | None = None
) -> tuple[TicketState, PriorityChanged | None]:
    """Apply a new impact and/or urgency; report a PriorityChanged only if P moved."""
    new_impact = state.impact if impact is None else Impact(impact)
    new_urgency = state.urgency if urgency is None else Urgency(urgency)
    new_priority = priority_for(new_impact, new_urgency)
    new_state = replace(state, impact=new_impact, urgency=new_urgency, priority=new_priority)
    if new_priority == state.priority:
        return new_state, None
    return new_state, PriorityChanged(from_priority=state.priority, to_priority=new_priority)
