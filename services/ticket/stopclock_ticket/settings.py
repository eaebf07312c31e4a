"""Settings of the ticket service (``STOPCLOCK_*`` environment variables)."""

from __future__ import annotations

from stopclock_shared.settings import Settings


class TicketSettings(Settings):
    service_name: str = "ticket"
