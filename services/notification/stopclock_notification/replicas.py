"""The replicas inbound mail decides on, kept from events (event-carried state): tickets
from ``tickets.events``, people from ``people.events``."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.events.envelope import Envelope

from . import repository as repo

log = logging.getLogger(__name__)


async def refresh_ticket(session: AsyncSession, envelope: Envelope) -> None:
    """Keep the newest version of the ticket the event carries.

    A snapshot without what threading needs is skipped, not dead-lettered: the same event
    also carries mails, which must not be held back by the replica.
    """
    data: Any = envelope.data
    ticket = data.get("ticket") if isinstance(data, dict) else None
    if not isinstance(ticket, dict):
        log.warning("%s %s carries no ticket snapshot", envelope.type, envelope.id)
        return
    try:
        await repo.upsert_ticket_ref(session, ticket)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("ticket snapshot of %s %s skipped: %r", envelope.type, envelope.id, exc)


async def refresh_person(session: AsyncSession, envelope: Envelope) -> None:
    """Keep the newest directory entry of the person the event carries."""
    data: Any = envelope.data
    person = data.get("person") if isinstance(data, dict) else None
    if not isinstance(person, dict) or not person.get("id") or not person.get("email"):
        log.warning("person event %s without id or email skipped", envelope.id)
        return
    name = str(person.get("name") or person["email"])
    await repo.upsert_person(session, str(person["id"]), str(person["email"]), name, envelope.time)
