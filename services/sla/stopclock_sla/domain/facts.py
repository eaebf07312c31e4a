"""Ticket facts: what the SLA domain needs to know from `tickets.events`.

The edge turns each ticket event into one fact; `sequence` is the ticket's version and
`at` the event's `time` (when it happened), never the time it was processed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, TypeAlias

from stopclock_sla.domain.policy import SlaPolicy


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketFacts:
    """The ticket as created: what policy matching and the first pause decision need."""

    ticket_id: str
    sequence: int
    type: str
    priority: str
    service: str | None = None
    status: str = "new"
    waiting_reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChanged:
    """The ticket moved to `to_status` (`reason` is the waiting reason, if any).

    Who moved it matters to the pause audit (`waits.py`): `actor_id` sets or ends a wait,
    `by_requester` says the requester did it (their answer), `by_desk` a desk person (an
    agent, manager or admin who is not the requester), and `with_note` that the transition
    carried a note (the question asked when setting a wait).
    """

    kind: ClassVar[str] = "status"
    sequence: int
    at: datetime
    to_status: str
    reason: str | None = None
    actor_id: str | None = None
    by_requester: bool = False
    by_desk: bool = False
    with_note: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentAdded:
    """A comment was posted; only a public one by someone other than the requester counts."""

    kind: ClassVar[str] = "comment"
    sequence: int
    at: datetime
    public: bool
    by_requester: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PriorityChanged:
    """The priority changed; `policy` is what `match_policy` now returns for the ticket.

    The edge does the matching (it owns the policy table), so the domain stays pure.
    """

    kind: ClassVar[str] = "priority"
    sequence: int
    at: datetime
    priority: str
    policy: SlaPolicy | None


Fact: TypeAlias = StatusChanged | CommentAdded | PriorityChanged
