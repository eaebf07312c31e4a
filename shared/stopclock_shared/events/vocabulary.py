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


class Status(StrEnum):
    """Where a ticket is in its lifecycle (``status`` of the ticket snapshot)."""

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_ON_USER = "waiting_on_user"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_ON_USER})


class WaitingReason(StrEnum):
    """Why a ticket waits on its requester: what the desk asked of them. Every one of
    them stops the SLA clock unless a policy narrows it."""

    INFO_REQUESTED = "info_requested"
    USER_VALIDATION = "user_validation"
    USER_RESPONSE = "user_response"


# ``reason`` of the status change a requester's public comment causes (their answer).
REQUESTER_ANSWERED = "requester_answered"
# ``reason`` of the reopen command a survey answered "not resolved" sends.
SURVEY_NOT_RESOLVED = "survey_not_resolved"
