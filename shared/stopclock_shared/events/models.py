"""Typed payloads (``data``) of the events and commands (see docs/events.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from .vocabulary import Channel, NoteKind


class _Payload(BaseModel):
    # Additive changes keep the version, so unknown fields are accepted.
    model_config = ConfigDict(frozen=True, extra="allow")


class PersonRef(_Payload):
    id: str
    name: str
    email: str
    timezone: str = "UTC"
    locale: str = "en"
    vip: bool = False
    difficult: bool = False
    manager_id: str | None = None
    manager_email: str | None = None
    manager_name: str | None = None


class TicketSnapshot(_Payload):
    id: str
    number: str
    type: Literal["incident", "service_request"]
    title: str
    description: str
    status: str
    waiting_reason: str | None
    priority: str
    impact: str
    urgency: str
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
    version: int
    # When the current wait on the requester began (None unless ``waiting_on_user``): it
    # names that wait, e.g. in answer-page links.
    waiting_since: AwareDatetime | None = None


class TicketCreated(_Payload):
    ticket: TicketSnapshot
    channel: Channel = Channel.API
    # The Message-ID of the mail that opened the ticket (channel ``email``): the
    # confirmation threads with it.
    source_message_id: str | None = None


class TicketUpdated(_Payload):
    ticket: TicketSnapshot
    changes: dict[str, list[Any]]


class TicketStatusChanged(_Payload):
    ticket: TicketSnapshot
    from_status: str
    to_status: str
    reason: str | None = None
    note: str | None = None
    actor_id: str | None = None
    actor_roles: list[str] = []


class CommentData(_Payload):
    id: str
    body: str
    visibility: Literal["public", "internal"]
    author_id: str
    author_is_requester: bool
    created_at: AwareDatetime
    channel: Channel = Channel.API
    note_kind: NoteKind | None = None


class TicketCommented(_Payload):
    ticket: TicketSnapshot
    comment: CommentData


class TicketPriorityChanged(_Payload):
    ticket: TicketSnapshot
    from_priority: str
    to_priority: str


class ResolveCommand(_Payload):
    ticket_id: str
    resolution: str
    reason: str | None = None


class ReopenCommand(_Payload):
    ticket_id: str
    reason: str | None = None


class CommentCommand(_Payload):
    """A comment on behalf of ``author_id`` (a person; None: the sending service itself).

    Only a public comment whose author is the ticket's requester counts as their answer.
    """

    ticket_id: str
    body: str
    visibility: Literal["public", "internal"] = "internal"
    author_id: str | None = None
    channel: Channel = Channel.API
    note_kind: NoteKind | None = None


class OpenTicketCommand(_Payload):
    """A new ticket from a mail to the desk. ``ticket_id`` is chosen by the sender, so a
    command delivered twice opens one ticket."""

    ticket_id: str
    requester_id: str
    title: str
    description: str
    type: Literal["incident", "service_request"] = "incident"
    impact: Literal["high", "medium", "low"] = "medium"
    urgency: Literal["high", "medium", "low"] = "medium"
    channel: Channel = Channel.EMAIL
    source_message_id: str | None = None


class PersonUpdated(_Payload):
    """A person was created or changed in the directory (key: person id)."""

    person: PersonRef


class OutageData(_Payload):
    id: str
    service: str
    title: str
    description: str
    impact: str
    status: str
    created_at: AwareDatetime
    resolved_at: AwareDatetime | None = None


class OutageEvent(_Payload):
    outage: OutageData
    subscribers: list[PersonRef]
    message: str | None = None
