"""The replicas inbound mail decides on, kept from events (event-carried state): tickets
from ``tickets.events``, people from ``people.events``."""

from __future__ import annotations

import logging
from datetime import datetime

from stopclock_shared.events.people import PersonRef
from stopclock_shared.events.tickets import TicketSnapshot

from ..repository import TicketReplica
from . import NotificationUnitOfWork

log = logging.getLogger(__name__)


async def refresh_ticket(uow: NotificationUnitOfWork, ticket: TicketSnapshot) -> None:
    """Keep the newest version of the ticket an event carries (an older one changes nothing)."""
    requester = ticket.requester
    await uow.repo.upsert_ticket_ref(
        TicketReplica(
            ticket_id=ticket.id,
            number=ticket.number,
            requester_id=requester.id,
            requester_email=requester.email,
            requester_locale=requester.locale or "en",
            status=ticket.status,
            waiting_reason=ticket.waiting_reason,
            version=ticket.version,
        )
    )


async def refresh_person(uow: NotificationUnitOfWork, person: PersonRef, at: datetime) -> None:
    """Keep the newest directory entry of a person (``at``: the event's time); an entry
    without an id or an address is of no use to inbound mail and is skipped."""
    if not person.id or not person.email:
        log.warning("person event without id or email skipped")
        return
    await uow.repo.upsert_person(person.id, person.email, person.name or person.email, at)
