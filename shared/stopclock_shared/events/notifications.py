"""``notifications.events`` (key: ticket id, else outage service, else notification id)."""

from __future__ import annotations

from .payload import Payload


class NotificationOutcome(Payload):
    """A mail was sent, or failed for good (``error`` then says why)."""

    notification_id: str
    ticket_id: str | None
    kind: str
    recipient: str
    message_id: str | None
    attempts: int
    error: str | None = None
