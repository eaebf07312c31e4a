"""HTTP models of the notification API (contract: API.md, "Notification service")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12

# `bounced`: sent, then a delivery status notification came back for it.
NotificationStatus = Literal["pending", "sent", "failed", "dead", "bounced"]
InboundOutcome = Literal[
    "comment", "internal_comment", "new_ticket", "auto_reply", "bounce", "rejected"
]


class NotificationRead(BaseModel):
    """One mail of the log. ``recipient`` is the address; ``recipient_id`` the person, if any."""

    id: uuid.UUID
    ticket_id: str | None
    kind: str
    recipient: str
    recipient_id: str | None
    subject: str
    status: NotificationStatus
    attempts: int
    message_id: str | None
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


class PreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opt_out: list[str] = Field(
        max_length=100, description="Kinds of mail the person does not want (optional kinds)"
    )


class PreferencesRead(BaseModel):
    person_id: str
    opt_out: list[str]
    updated_at: datetime | None


# A typed dict, not a model: the repository returns rows of this shape (one declaration) and
# a page's cursor is read from its last row by key (`pagination.page_of`).
class InboundRead(TypedDict):
    """One mail to the desk and what it did (``detail`` says why, in words)."""

    id: uuid.UUID
    received_at: datetime
    sender: str
    subject: str
    message_id: str
    ticket_id: str | None
    outcome: InboundOutcome
    detail: str
