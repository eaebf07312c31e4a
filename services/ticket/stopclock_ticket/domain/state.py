"""The part of a ticket the domain rules read and change."""

from dataclasses import dataclass, replace
from datetime import datetime

from stopclock_ticket.domain.events import PriorityChanged
from stopclock_ticket.domain.priority import priority_for
from stopclock_ticket.domain.vocabulary import Impact, Priority, Status, Urgency, WaitingReason


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketState:
    """Status-related fields of a ticket, grouped by meaning (keyword-only, so the order
    is free of the defaults-last rule and no call can swap two fields).

    `version` is carried, never bumped here: the repository bumps it once per
    committed write, whatever mix of changes that write holds.
    """

    requester_id: str
    status: Status
    # The current wait on the requester (both None unless waiting_on_user); its start
    # names it, so an answer link made for an earlier wait never answers this one.
    waiting_reason: WaitingReason | None = None
    waiting_since: datetime | None = None
    priority: Priority
    impact: Impact
    urgency: Urgency
    version: int = 1
    resolved_at: datetime | None = None
    resolution: str | None = None
    closed_at: datetime | None = None


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
