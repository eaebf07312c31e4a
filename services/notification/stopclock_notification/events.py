"""The events the notification service emits: a mail's outcome on ``notifications.events``
and, for mail to the desk, ticket commands on ``tickets.commands``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from stopclock_shared.events.commands import CommentCommand, OpenTicketCommand
from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.notifications import NotificationOutcome
from stopclock_shared.events.types import EventType

from .repository import StoredMail

SOURCE = "stopclock/notification"


def outcome_event(
    type_: EventType, mail: StoredMail, now: datetime, error: str | None = None
) -> tuple[str, Envelope]:
    """(key, envelope) of ``notification.sent``/``failed``: keyed by the ticket, else the
    outage's service, else the mail itself; caused by the event that planned the mail."""
    key = mail.ticket_id or _outage_service(mail.context) or str(mail.id)
    outcome = NotificationOutcome(
        notification_id=str(mail.id),
        ticket_id=mail.ticket_id,
        kind=mail.kind,
        recipient=mail.recipient,
        message_id=mail.message_id,
        attempts=mail.attempts,
        error=error,
    )
    envelope = new_envelope(
        type_,
        source=SOURCE,
        subject=mail.ticket_id or str(mail.id),
        time=now,
        # `error` only on a failure, as it always was on the wire.
        data=outcome.model_dump(mode="json", exclude={"error"} if error is None else None),
        correlation_id=mail.correlation_id,
    )
    return key, envelope.model_copy(update={"causationid": mail.event_id})


def _outage_service(context: Mapping[str, object]) -> str | None:
    outage = context.get("outage")
    service = outage.get("service") if isinstance(outage, Mapping) else None
    return str(service) if service else None


def command_event(
    command: CommentCommand | OpenTicketCommand, at: datetime, correlation_id: str
) -> Envelope:
    """A command a mail to the desk causes (keyed by its ticket on ``tickets.commands``)."""
    type_ = (
        EventType.COMMAND_OPEN
        if isinstance(command, OpenTicketCommand)
        else EventType.COMMAND_COMMENT
    )
    return new_envelope(
        type_,
        source=SOURCE,
        subject=command.ticket_id,
        time=at,
        data=command.model_dump(mode="json"),
        correlation_id=correlation_id,
    )
