"""The kinds of mail the notification service sends, and which ones a person may refuse."""

from collections.abc import Iterable
from enum import StrEnum


class MailKind(StrEnum):
    """Every kind of mail; the values are the public names of API.md ("Notification service")."""

    TICKET_OPENED = "ticket_opened"
    INFO_REQUESTED = "info_requested"
    REMINDER = "reminder"
    USER_RESPONSE_RECEIVED = "user_response_received"
    RESOLVED = "resolved"
    CLOSED = "closed"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    MANAGER_ESCALATION = "manager_escalation"
    SURVEY_INVITATION = "survey_invitation"
    NEGATIVE_FEEDBACK = "negative_feedback"
    OUTAGE_NOTICE = "outage_notice"
    OUTAGE_UPDATE = "outage_update"
    OUTAGE_RESOLVED = "outage_resolved"


ALL_KINDS: frozenset[MailKind] = frozenset(MailKind)

# Mandatory: mails without which the process breaks or someone loses time without knowing why.
# - ticket_opened: the requester's record of the ticket (they search their inbox by number);
# - info_requested, reminder: the SLA clock is stopped on the requester, and an unanswered
#   reminder ends in auto-resolution or a manager being contacted: they must be told;
# - resolved: says how to reopen, the requester's only way to object in time;
# - manager_escalation: the escalation path itself;
# - sla_breached, negative_feedback: failures the desk has to recover from, never noise.
# Everything else (confirmations, closure, early warnings, surveys, outage news the person
# subscribed to) is a courtesy the recipient may turn off.
MANDATORY_KINDS: frozenset[MailKind] = frozenset(
    {
        MailKind.TICKET_OPENED,
        MailKind.INFO_REQUESTED,
        MailKind.REMINDER,
        MailKind.RESOLVED,
        MailKind.MANAGER_ESCALATION,
        MailKind.SLA_BREACHED,
        MailKind.NEGATIVE_FEEDBACK,
    }
)

OPTIONAL_KINDS: frozenset[MailKind] = ALL_KINDS - MANDATORY_KINDS


class Audience(StrEnum):
    """Who reads a kind of mail, which decides what a reply to it does (said in its footer)."""

    REQUESTER = "requester"  # their reply is their answer on the ticket (a public comment)
    DESK = "desk"  # agents, managers: their reply is an internal note on the ticket
    SUBSCRIBER = "subscriber"  # outage news: a reply is a new mail to the desk


_DESK_KINDS = frozenset(
    {
        MailKind.SLA_WARNING,
        MailKind.SLA_BREACHED,
        MailKind.MANAGER_ESCALATION,
        MailKind.NEGATIVE_FEEDBACK,
    }
)
_SUBSCRIBER_KINDS = frozenset(
    {MailKind.OUTAGE_NOTICE, MailKind.OUTAGE_UPDATE, MailKind.OUTAGE_RESOLVED}
)


def audience(kind: str) -> Audience:
    """Who reads mails of `kind`."""
    if kind in _DESK_KINDS:
        return Audience.DESK
    if kind in _SUBSCRIBER_KINDS:
        return Audience.SUBSCRIBER
    return Audience.REQUESTER


def opt_out_problems(kinds: Iterable[str]) -> dict[str, str]:
    """Why each refused kind of an opt-out list cannot be accepted: {kind: problem}.

    An empty answer means the whole list is acceptable.
    """
    problems: dict[str, str] = {}
    for kind in kinds:
        if kind not in ALL_KINDS:
            problems[kind] = "unknown kind"
        elif kind in MANDATORY_KINDS:
            problems[kind] = "mandatory kind: it cannot be opted out"
    return problems


def is_wanted(kind: str, opt_out: Iterable[str]) -> bool:
    """Whether a mail of `kind` goes out to someone who opted out of `opt_out`.

    Mandatory kinds always go out, even if a stale preference lists them.
    """
    return kind in MANDATORY_KINDS or kind not in set(opt_out)
