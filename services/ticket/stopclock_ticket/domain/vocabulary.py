"""The fixed words of the ticket domain; values are the API's strings (API.md).

They travel in event payloads too, so the contract (`stopclock_shared.events.vocabulary`)
defines them; the domain names them here with its own aliases.
"""

from stopclock_shared.events.vocabulary import (
    Level,
    Priority,
    Status,
    TicketType,
    Visibility,
    WaitingReason,
)
from stopclock_shared.identity import Role

__all__ = [
    "Impact",
    "Level",
    "Priority",
    "Role",
    "Status",
    "TicketType",
    "Urgency",
    "Visibility",
    "WaitingReason",
]

Impact = Level
Urgency = Level
