"""The facts a ticket event (`tickets.events`) states, as the SLA domain understands them.

Pure: the edge decodes an envelope, these functions say what it means for the clocks.
Times are the envelope's `time` (when it happened); the sequence is the envelope's
`sequence` (the ticket's version), or the snapshot's version when a producer left it out.
"""

from __future__ import annotations

from typing import Final

from stopclock_shared.auth import Role
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.tickets import (
    TicketCommented,
    TicketSnapshot,
    TicketStatusChanged,
)
from stopclock_shared.events.vocabulary import Status
from stopclock_sla.domain import (
    CommentAdded,
    PriorityChanged,
    SlaPolicy,
    StatusChanged,
    TicketFacts,
)

DESK_ROLES: Final = frozenset({Role.AGENT, Role.MANAGER, Role.ADMIN})
"""Roles of the desk's people (a wait they end is not the requester's answer)."""


def sequence_of(envelope: Envelope, ticket: TicketSnapshot) -> int:
    """The ticket version an event stands for."""
    return envelope.sequence if envelope.sequence is not None else ticket.version


def created_facts(envelope: Envelope, ticket: TicketSnapshot) -> TicketFacts:
    """What policy matching and the first pause decision need from a new ticket."""
    return TicketFacts(
        ticket_id=ticket.id,
        sequence=sequence_of(envelope, ticket),
        type=ticket.type,
        priority=ticket.priority,
        service=ticket.service,
        status=ticket.status,
        waiting_reason=ticket.waiting_reason,
    )


def adopted_facts(ticket: TicketSnapshot) -> TicketFacts:
    """A ticket first seen after its creation (its `created` event was never applied here).

    Best effort: its clocks start at `created_at` as if it had stayed `new` until the
    event at hand, which is then applied (sequence 0 so that every real fact applies).
    """
    return TicketFacts(
        ticket_id=ticket.id,
        sequence=0,
        type=ticket.type,
        priority=ticket.priority,
        service=ticket.service,
    )


def status_fact(envelope: Envelope, data: TicketStatusChanged) -> StatusChanged:
    """A status change; the reason matters only when entering `waiting_on_user`.

    For the pause audit: who made it (the requester answering, a desk person, or anyone
    else such as a service resolving for lack of response) and whether it carried a note.
    """
    actor = data.actor_id
    by_requester = actor is not None and actor == data.ticket.requester.id
    return StatusChanged(
        sequence=sequence_of(envelope, data.ticket),
        at=envelope.time,
        to_status=data.to_status,
        reason=data.reason if data.to_status == Status.WAITING_ON_USER else None,
        actor_id=actor,
        by_requester=by_requester,
        by_desk=not by_requester and not DESK_ROLES.isdisjoint(data.actor_roles),
        with_note=bool(data.note and data.note.strip()),
    )


def comment_fact(envelope: Envelope, data: TicketCommented) -> CommentAdded:
    """A comment; only a public one by someone other than the requester is a response."""
    return CommentAdded(
        sequence=sequence_of(envelope, data.ticket),
        at=envelope.time,
        public=data.comment.visibility == "public",
        by_requester=data.comment.author_is_requester,
    )


def priority_fact(
    envelope: Envelope, ticket: TicketSnapshot, priority: str, policy: SlaPolicy | None
) -> PriorityChanged:
    """A priority change with the policy that matches the ticket now (the edge matched it)."""
    return PriorityChanged(
        sequence=sequence_of(envelope, ticket),
        at=envelope.time,
        priority=priority,
        policy=policy,
    )
