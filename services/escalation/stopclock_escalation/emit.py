"""Envelopes the escalation service writes to its outbox (payloads: docs/events.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.topics import ESCALATIONS_EVENTS, TICKETS_COMMANDS
from stopclock_shared.outbox import Outbox

SOURCE = "stopclock/escalation"


async def emit(
    session: AsyncSession,
    outbox: Outbox,
    type_: str,
    ticket_id: str,
    data: dict[str, Any],
    at: datetime,
    *,
    cause: Envelope | None = None,
    correlation_id: str | None = None,
    command: bool = False,
) -> Envelope:
    """An event on ``escalations.events`` (a command: ``tickets.commands``), keyed by ticket."""
    envelope = new_envelope(
        type_,
        source=SOURCE,
        subject=ticket_id,
        time=at,
        data=data,
        cause=cause,
        correlation_id=correlation_id,
    )
    await outbox.add(
        session, TICKETS_COMMANDS if command else ESCALATIONS_EVENTS, ticket_id, envelope
    )
    return envelope


def manager_ref(requester: dict[str, Any]) -> dict[str, Any] | None:
    """The requester's manager as a ``PersonRef``, from what the requester's snapshot knows.

    The snapshot has the manager's id, name and address only; their time zone and locale
    are taken to be the requester's (same organisation), which beats UTC/English.
    """
    email = requester.get("manager_email")
    if not email:
        return None
    return {
        "id": requester.get("manager_id"),
        "name": requester.get("manager_name") or email,
        "email": email,
        "timezone": requester.get("timezone") or "UTC",
        "locale": requester.get("locale") or "en",
        "vip": False,
        "difficult": False,
        "manager_id": None,
        "manager_email": None,
        "manager_name": None,
    }
