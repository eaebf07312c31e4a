"""What the ticket service does, one function per use case.

Every use case takes a `UnitOfWork[TicketRepository]`, plain inputs and ``now``; it never
sees a session or a status code, and never commits (the HTTP request or the consumer owns
the transaction). Refusals are `stopclock_shared.errors` kinds, mapped to problems at the
edge. Unit tests run them on `FakeUnitOfWork` (tests/unit/ticket/fakes.py).
"""

from .commands import comment_by_command, open_by_command, reopen_by_command, resolve_by_command
from .comments import add_comment, list_comments, list_history
from .outages import (
    OutageView,
    declare_outage,
    read_outage,
    resolve_outage,
    subscribe,
    update_outage,
)
from .people import get_person, put_person
from .tickets import (
    UnknownRequester,
    change_status,
    list_tickets,
    open_ticket,
    update_ticket,
    visible_ticket,
)

__all__ = [
    "OutageView",
    "UnknownRequester",
    "add_comment",
    "change_status",
    "comment_by_command",
    "declare_outage",
    "get_person",
    "list_comments",
    "list_history",
    "list_tickets",
    "open_by_command",
    "open_ticket",
    "put_person",
    "read_outage",
    "reopen_by_command",
    "resolve_by_command",
    "resolve_outage",
    "subscribe",
    "update_outage",
    "update_ticket",
    "visible_ticket",
]
