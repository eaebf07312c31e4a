"""``outages.events`` (key: service): an outage and who to warn."""

from __future__ import annotations

from pydantic import AwareDatetime

from .payload import Payload, Word
from .people import PersonRef
from .vocabulary import Level, OutageStatus


class OutageData(Payload):
    id: str
    service: str
    title: str
    description: str
    impact: Word[Level]
    status: Word[OutageStatus]
    created_at: AwareDatetime
    resolved_at: AwareDatetime | None = None


class OutageEvent(Payload):
    outage: OutageData
    subscribers: list[PersonRef]
    message: str | None = None
