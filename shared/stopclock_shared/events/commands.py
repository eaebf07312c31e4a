"""``tickets.commands`` (key: ticket id): other services asking the ticket service to act."""

from __future__ import annotations

from typing import Literal

from .payload import Payload
from .vocabulary import Channel, NoteKind


class ResolveCommand(Payload):
    ticket_id: str
    resolution: str
    reason: str | None = None


class ReopenCommand(Payload):
    ticket_id: str
    reason: str | None = None


class CommentCommand(Payload):
    """A comment on behalf of ``author_id`` (a person; None: the sending service itself).

    Only a public comment whose author is the ticket's requester counts as their answer.
    """

    ticket_id: str
    body: str
    visibility: Literal["public", "internal"] = "internal"
    author_id: str | None = None
    channel: Channel = Channel.API
    note_kind: NoteKind | None = None


class OpenTicketCommand(Payload):
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
