"""The pure core of the notification service: which mails an event causes, their text, retries.

No I/O here except reading the Jinja2 templates shipped with the package.
"""

from stopclock_notification.domain.backoff import backoff_seconds
from stopclock_notification.domain.kinds import (
    ALL_KINDS,
    MANDATORY_KINDS,
    OPTIONAL_KINDS,
    MailKind,
    is_wanted,
    opt_out_problems,
)
from stopclock_notification.domain.message_id import message_id_for
from stopclock_notification.domain.planned_mail import PlannedMail
from stopclock_notification.domain.planning import MAILED_EVENT_TYPES, Desk, MailedEvent, plan_mails
from stopclock_notification.domain.rendering import RenderedMail, render
from stopclock_notification.domain.retry import AfterFailure, Failure, after_failure

__all__ = [
    "ALL_KINDS",
    "MAILED_EVENT_TYPES",
    "MANDATORY_KINDS",
    "OPTIONAL_KINDS",
    "AfterFailure",
    "Desk",
    "Failure",
    "MailKind",
    "MailedEvent",
    "PlannedMail",
    "RenderedMail",
    "after_failure",
    "backoff_seconds",
    "is_wanted",
    "message_id_for",
    "opt_out_problems",
    "plan_mails",
    "render",
]
