"""``tickets.events`` (key: ticket id): every message carries the ticket's snapshot."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime

from .payload import Payload, Word
from .people import PersonRef
from .vocabulary import (
    Channel,
    Level,
    NoteKind,
    Priority,
    Status,
    TicketType,
    Visibility,
    WaitingReason,
)


class TicketSnapshot(Payload):
    id: str
    number: str
    type: TicketType
    title: str
    description: str
    status: Word[Status]
    waiting_reason: Word[WaitingReason] | None
    priority: Word[Priority]
    impact: Word[Level]
    urgency: Word[Level]
    requester: PersonRef
    assignee_id: str | None
    assignee: PersonRef | None = None
    group: str | None
    service: str | None
    category: str | None
    work_blocked: bool
    created_at: AwareDatetime
    updated_at: AwareDatetime
    resolved_at: AwareDatetime | None
    closed_at: AwareDatetime | None
    resolution: str | None
    # Why it was resolved (`no_response`, `confirmed_by_requester`), else None.
    resolution_reason: str | None = None
    version: int
    # When the current wait on the requester began (None unless ``waiting_on_user``): it
    # names that wait, e.g. in answer-page links.
    waiting_since: AwareDatetime | None = None


class TicketCreated(Payload):
    ticket: TicketSnapshot
    channel: Channel = Channel.API
    # The Message-ID of the mail that opened the ticket (channel ``email``): the
    # confirmation threads with it.
    source_message_id: str | None = None


class TicketUpdated(Payload):
    ticket: TicketSnapshot
    changes: dict[str, list[Any]]


class TicketStatusChanged(Payload):
    ticket: TicketSnapshot
    from_status: str
    to_status: str
    reason: str | None = None
    note: str | None = None
    actor_id: str | None = None
    actor_roles: tuple[str, ...] = ()
    resolution_reason: str | None = None


class CommentData(Payload):
    id: str
    body: str
    visibility: Visibility
    author_id: str
    author_is_requester: bool
    created_at: AwareDatetime
    channel: Channel = Channel.API
    note_kind: NoteKind | None = None


class TicketCommented(Payload):
    ticket: TicketSnapshot
    comment: CommentData


class TicketPriorityChanged(Payload):
    ticket: TicketSnapshot
    from_priority: str
    to_priority: str
