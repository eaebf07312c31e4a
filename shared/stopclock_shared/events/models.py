"""The payload models under their former home; the contract lives in one module per topic
(``tickets``, ``commands``, ``people``, ``outages``, ``sla``, ``escalations``, ``surveys``,
``notifications``) and ``contract.CONTRACT``. Kept until every importer moves (issue 14)."""

from __future__ import annotations

from .commands import CommentCommand, OpenTicketCommand, ReopenCommand, ResolveCommand
from .outages import OutageData, OutageEvent
from .payload import Payload as _Payload
from .people import PersonRef, PersonUpdated
from .tickets import (
    CommentData,
    TicketCommented,
    TicketCreated,
    TicketPriorityChanged,
    TicketSnapshot,
    TicketStatusChanged,
    TicketUpdated,
)

__all__ = [
    "CommentCommand",
    "CommentData",
    "OpenTicketCommand",
    "OutageData",
    "OutageEvent",
    "PersonRef",
    "PersonUpdated",
    "ReopenCommand",
    "ResolveCommand",
    "TicketCommented",
    "TicketCreated",
    "TicketPriorityChanged",
    "TicketSnapshot",
    "TicketStatusChanged",
    "TicketUpdated",
    "_Payload",
]
