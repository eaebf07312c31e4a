"""A mail decided on but not yet written: what, to whom, in which language and time zone."""

from dataclasses import dataclass, field
from typing import Any

from stopclock_notification.domain.kinds import MailKind


@dataclass(frozen=True)
class PlannedMail:
    """One mail an event causes for one recipient.

    `context` holds JSON values only (times as RFC 3339 strings), so a planned mail can be
    stored as it is and rendered later; treat it as read-only.
    """

    kind: MailKind
    recipient_email: str
    recipient_id: str | None
    locale: str
    timezone: str
    ticket_id: str | None
    event_id: str
    context: dict[str, Any] = field(hash=False)

    @property
    def dedupe_key(self) -> str:
        """Unique per event, kind and recipient: a redelivered event plans the same keys."""
        return f"{self.event_id}:{self.kind}:{self.recipient_email}"
