"""What the sla service does, one function per use case, on a `UnitOfWork[SlaRepository]`.

Use cases never commit (the HTTP request, the consumer's poll or the timer loop owns the
transaction) and raise `stopclock_shared.errors`, never HTTP problems.
"""

from .clocks import (
    AuditGain,
    Horizon,
    Saved,
    TicketEvent,
    apply_ticket_event,
    fire_due,
    read_clocks,
)
from .pause_report import AUDITORS, pause_report, report_window
from .policies import (
    BuiltinCalendar,
    Listing,
    PublishedPolicies,
    Written,
    get_version,
    list_current,
    published_policies,
    put_calendar,
    put_policy,
    seed_defaults,
)

__all__ = [
    "AUDITORS",
    "AuditGain",
    "BuiltinCalendar",
    "Horizon",
    "Listing",
    "PublishedPolicies",
    "Saved",
    "TicketEvent",
    "Written",
    "apply_ticket_event",
    "fire_due",
    "get_version",
    "list_current",
    "pause_report",
    "published_policies",
    "put_calendar",
    "put_policy",
    "read_clocks",
    "report_window",
    "seed_defaults",
]
