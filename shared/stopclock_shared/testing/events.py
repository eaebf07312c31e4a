"""Synthetic events, shaped as their producers emit them (docs/events.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.types import EventType

from .stack import unique


def ticket_created(
    *,
    email: str,
    number: str = "INC0000001",
    person_id: str | None = None,
    time: datetime | None = None,
    source: str = "tests",
) -> Envelope:
    """A synthetic ``stopclock.ticket.created.v1`` for a fresh ticket (docs/events.md)."""
    ticket_id = str(uuid.uuid4())
    at = time or datetime.now(UTC)
    person = person_id or unique("person")
    requester = {
        "id": person,
        "name": f"Person {person}",
        "email": email,
        "timezone": "Europe/Paris",
        "locale": "en",
        "vip": False,
        "difficult": False,
        "manager_id": None,
        "manager_email": None,
        "manager_name": None,
    }
    snapshot: dict[str, Any] = {
        "id": ticket_id,
        "number": number,
        "type": "incident",
        "title": "Synthetic ticket",
        "description": "Made by a test or a benchmark.",
        "status": "new",
        "waiting_reason": None,
        "priority": "P3",
        "impact": "medium",
        "urgency": "medium",
        "requester": requester,
        "assignee_id": None,
        "assignee": None,
        "group": None,
        "service": None,
        "category": None,
        "work_blocked": False,
        "created_at": at.isoformat(),
        "updated_at": at.isoformat(),
        "resolved_at": None,
        "closed_at": None,
        "resolution": None,
        "version": 1,
    }
    return new_envelope(
        EventType.TICKET_CREATED,
        source=source,
        subject=ticket_id,
        time=at,
        data={"ticket": snapshot},
        sequence=1,
    )
