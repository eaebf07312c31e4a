"""The fixed words of the ticket domain; values are the API's strings (API.md)."""

from enum import StrEnum

from stopclock_shared.events.vocabulary import Status, WaitingReason
from stopclock_shared.identity import Role

# The contract's words, named here with the other domain words.
__all__ = ["Role", "Status", "WaitingReason"]


class TicketType(StrEnum):
    """An incident (something broke) or a service request (something is wanted)."""

    INCIDENT = "incident"
    SERVICE_REQUEST = "service_request"


class Level(StrEnum):
    """The scale of both impact and urgency."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


Impact = Level
Urgency = Level


class Priority(StrEnum):
    """P1 (most urgent) to P4, from impact x urgency (``priority.py``)."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Visibility(StrEnum):
    """Who reads a comment: everyone on the ticket, or the desk only."""

    PUBLIC = "public"
    INTERNAL = "internal"
