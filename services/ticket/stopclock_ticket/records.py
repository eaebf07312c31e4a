"""What the ticket repository hands back: one typed record per stored row shape.

TypedDicts, not classes: the SQL repository returns SQLAlchemy ``RowMapping``s typed as
these (no copy on the hot path), the unit tests' fake returns plain dicts. Keys are the
columns of `models`. The API's read models (`schemas`) are these same declarations, so a
field is declared once from the table to the response.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12

__all__ = [
    "CommentRecord",
    "HistoryRecord",
    "OpenCount",
    "OutageRecord",
    "OutageUpdateRecord",
    "PersonRecord",
    "SubscriptionRecord",
    "TicketFields",
    "TicketRecord",
]


class PersonRecord(TypedDict):
    id: str
    name: str
    email: str
    manager_id: str | None
    timezone: str
    locale: str
    vip: bool
    difficult: bool
    created_at: datetime
    updated_at: datetime


class TicketFields(TypedDict):
    """A stored ticket's fields that the API shows (`schemas.TicketRead`)."""

    id: uuid.UUID
    number: str
    type: str
    title: str
    description: str
    status: str
    waiting_reason: str | None
    priority: str
    impact: str
    urgency: str
    requester_id: str
    assignee_id: str | None
    group: str | None
    service: str | None
    category: str | None
    work_blocked: bool
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str | None
    version: int
    # Additive: when the current wait on the requester began (null unless waiting_on_user).
    waiting_since: datetime | None


class TicketRecord(TicketFields):
    """A stored ticket: what the API shows, and why it was resolved (`no_response`,
    `confirmed_by_requester`), which travels in events only."""

    resolution_reason: str | None


class CommentRecord(TypedDict):
    id: uuid.UUID
    ticket_id: uuid.UUID
    body: str
    visibility: str
    author_id: str
    created_at: datetime
    channel: str
    note_kind: str | None


class HistoryRecord(TypedDict):
    """A stored history entry (written as a `repository.HistoryEntry`)."""

    id: int
    ticket_id: uuid.UUID
    version: int
    action: str
    actor_id: str | None
    changes: Mapping[str, object]
    internal: bool
    created_at: datetime


class SubscriptionRecord(TypedDict):
    service: str
    person_id: str
    created_at: datetime


class OutageRecord(TypedDict):
    id: uuid.UUID
    service: str
    title: str
    description: str
    impact: str
    status: str
    created_at: datetime
    resolved_at: datetime | None


class OutageUpdateRecord(TypedDict):
    id: int
    outage_id: uuid.UUID
    kind: str
    message: str
    created_at: datetime


class OpenCount(TypedDict):
    """How many open tickets have this status and priority."""

    status: str
    priority: str
    n: int
