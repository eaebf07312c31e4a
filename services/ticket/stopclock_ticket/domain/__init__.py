"""Pure rules of the ticket service: vocabulary, priority matrix, numbering,
lifecycle and permissions. No I/O and no clock reads: callers pass `now`.
Refusals are the shared kinds (`stopclock_shared.errors`) and `InvalidTransition`."""

from stopclock_shared.events.vocabulary import REQUESTER_ANSWERED
from stopclock_ticket.domain.commands import (
    comment_author,
    fit,
    requester_actor,
    resolve_refusal,
    system_actor,
)
from stopclock_ticket.domain.errors import InvalidTransition, OutageResolved
from stopclock_ticket.domain.events import PriorityChanged, StatusChanged, TicketEvent
from stopclock_ticket.domain.lifecycle import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    allowed_transitions,
    requester_answered,
    requester_comment_answers,
    requester_comment_reopens,
    transition,
)
from stopclock_ticket.domain.numbering import ticket_number
from stopclock_ticket.domain.permissions import (
    STAFF_ROLES,
    Actor,
    may_act_for,
    may_comment,
    may_see_comment,
    may_see_ticket,
    may_transition,
)
from stopclock_ticket.domain.priority import priority_for
from stopclock_ticket.domain.state import TicketState, open_ticket, recompute_priority
from stopclock_ticket.domain.vocabulary import (
    Impact,
    Level,
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
    "Impact",
    "InvalidTransition",
    "Level",
    "OutageResolved",
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
    "may_act_for",
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
