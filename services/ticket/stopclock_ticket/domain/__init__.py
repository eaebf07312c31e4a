"""Pure rules of the ticket service: vocabulary, priority matrix, numbering,
lifecycle and permissions. No I/O and no clock reads: callers pass `now`."""

from stopclock_ticket.domain.commands import (
    comment_author,
    fit,
    requester_actor,
    resolve_refusal,
    system_actor,
)
from stopclock_ticket.domain.errors import DomainError, FieldError, Forbidden, InvalidTransition
from stopclock_ticket.domain.events import PriorityChanged, StatusChanged, TicketEvent
from stopclock_ticket.domain.lifecycle import (
    REQUESTER_ANSWERED,
    allowed_transitions,
    requester_answered,
    requester_comment_answers,
    requester_comment_reopens,
    transition,
)
from stopclock_ticket.domain.numbering import ticket_number
from stopclock_ticket.domain.permissions import (
    Actor,
    may_comment,
    may_see_comment,
    may_see_ticket,
    may_transition,
)
from stopclock_ticket.domain.priority import priority_for
from stopclock_ticket.domain.state import TicketState, open_ticket, recompute_priority
from stopclock_ticket.domain.vocabulary import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    STAFF_ROLES,
    Impact,
    Priority,
    Role,
    Status,
    TicketType,
    Urgency,
    Visibility,
    WaitingReason,
)

__all__ = [
    "FINAL_STATUSES",
    "OPEN_STATUSES",
    "REQUESTER_ANSWERED",
    "STAFF_ROLES",
    "Actor",
    "DomainError",
    "FieldError",
    "Forbidden",
    "Impact",
    "InvalidTransition",
    "Priority",
    "PriorityChanged",
    "Role",
    "Status",
    "StatusChanged",
    "TicketEvent",
    "TicketState",
    "TicketType",
    "Urgency",
    "Visibility",
    "WaitingReason",
    "allowed_transitions",
    "comment_author",
    "fit",
    "may_comment",
    "may_see_comment",
    "may_see_ticket",
    "may_transition",
    "open_ticket",
    "priority_for",
    "recompute_priority",
    "requester_actor",
    "requester_answered",
    "requester_comment_answers",
    "requester_comment_reopens",
    "resolve_refusal",
    "system_actor",
    "ticket_number",
    "transition",
]
