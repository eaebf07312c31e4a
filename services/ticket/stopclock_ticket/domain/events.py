"""What a domain change returns; the service layer wraps these in the wire events
(`stopclock.ticket.status_changed.v1`, `.priority_changed.v1`) with the ticket snapshot."""

from dataclasses import dataclass

from stopclock_ticket.domain.vocabulary import Priority, Role, Status


@dataclass(frozen=True, slots=True)
class StatusChanged:
    from_status: Status
    to_status: Status
    # The waiting reason when entering waiting_on_user, or REQUESTER_ANSWERED.
    reason: str | None
    note: str | None
    actor_id: str
    actor_roles: tuple[Role, ...]


@dataclass(frozen=True, slots=True)
class PriorityChanged:
    from_priority: Priority
    to_priority: Priority


TicketEvent = StatusChanged | PriorityChanged
