"""The CloudEvents 1.0 envelope (structured JSON mode) every message travels in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ..logs import correlation_id as current_correlation


class Envelope(BaseModel):
    """One event. ``time`` is when it happened, not when it was sent."""

    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: str = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1)
    type: str = Field(min_length=1)
    source: str = Field(min_length=1)
    subject: str | None = None
    time: AwareDatetime
    datacontenttype: str = "application/json"
    data: dict[str, Any]
    correlationid: str | None = None
    causationid: str | None = None
    sequence: int | None = None


def new_envelope(
    type_: str,
    *,
    source: str,
    subject: str,
    time: datetime,
    data: dict[str, Any],
    cause: Envelope | None = None,
    correlation_id: str | None = None,
    sequence: int | None = None,
) -> Envelope:
    """Build an envelope; a caused event inherits the cause's correlation id, otherwise the
    id bound for the current request or event (see ``logs.CorrelationMiddleware``)."""
    event_id = str(uuid.uuid4())
    correlation = (
        correlation_id
        or (cause.correlationid if cause else None)
        or current_correlation.get()
        or event_id
    )
    return Envelope(
        id=event_id,
        type=type_,
        source=source,
        subject=subject,
        time=time,
        data=data,
        correlationid=correlation,
        causationid=cause.id if cause else None,
        sequence=sequence,
    )
