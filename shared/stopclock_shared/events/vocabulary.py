"""Contract words that travel between services (in event payloads), defined once."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """Where a comment (or a ticket) came from."""

    API = "api"
    EMAIL = "email"
    PAGE = "page"


class NoteKind(StrEnum):
    """Why the mail gateway put an internal note on a ticket; consumers act on some kinds
    (the escalation service marks a waiting episode ``away`` on ``auto_reply``)."""

    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    UNVERIFIED_SENDER = "unverified_sender"


class ResolveReason(StrEnum):
    """``reason`` of ``stopclock.ticket.command.resolve.v1``."""

    NO_RESPONSE = "no_response"
    CONFIRMED_BY_REQUESTER = "confirmed_by_requester"
