"""The event contract as code: every event type, its topic and its payload model.

docs/events.md is checked against this table (tests/unit/events/test_contract_docs.py).
"""

from __future__ import annotations

from typing import Final, NamedTuple

from .commands import CommentCommand, OpenTicketCommand, ReopenCommand, ResolveCommand
from .escalations import (
    AutoResolved,
    ManagerEscalated,
    NegativeFeedbackEscalated,
    RequesterReminded,
    SlaEscalated,
)
from .notifications import NotificationOutcome
from .outages import OutageEvent
from .payload import Payload
from .people import PersonUpdated
from .sla import CalendarUpdated, SlaClockEvent
from .surveys import SurveyAnswered, SurveyRequested
from .tickets import (
    TicketCommented,
    TicketCreated,
    TicketPriorityChanged,
    TicketStatusChanged,
    TicketUpdated,
)
from .topics import (
    ESCALATIONS_EVENTS,
    NOTIFICATIONS_EVENTS,
    OUTAGES_EVENTS,
    PEOPLE_EVENTS,
    SLA_EVENTS,
    SURVEYS_EVENTS,
    TICKETS_COMMANDS,
    TICKETS_EVENTS,
)
from .types import EventType as T


class Entry(NamedTuple):
    topic: str
    model: type[Payload]


CONTRACT: Final[dict[T, Entry]] = {
    T.TICKET_CREATED: Entry(TICKETS_EVENTS, TicketCreated),
    T.TICKET_UPDATED: Entry(TICKETS_EVENTS, TicketUpdated),
    T.TICKET_STATUS_CHANGED: Entry(TICKETS_EVENTS, TicketStatusChanged),
    T.TICKET_COMMENTED: Entry(TICKETS_EVENTS, TicketCommented),
    T.TICKET_PRIORITY_CHANGED: Entry(TICKETS_EVENTS, TicketPriorityChanged),
    T.COMMAND_RESOLVE: Entry(TICKETS_COMMANDS, ResolveCommand),
    T.COMMAND_REOPEN: Entry(TICKETS_COMMANDS, ReopenCommand),
    T.COMMAND_COMMENT: Entry(TICKETS_COMMANDS, CommentCommand),
    T.COMMAND_OPEN: Entry(TICKETS_COMMANDS, OpenTicketCommand),
    T.PERSON_UPDATED: Entry(PEOPLE_EVENTS, PersonUpdated),
    T.SLA_STARTED: Entry(SLA_EVENTS, SlaClockEvent),
    T.SLA_PAUSED: Entry(SLA_EVENTS, SlaClockEvent),
    T.SLA_RESUMED: Entry(SLA_EVENTS, SlaClockEvent),
    T.SLA_WARNING: Entry(SLA_EVENTS, SlaClockEvent),
    T.SLA_BREACHED: Entry(SLA_EVENTS, SlaClockEvent),
    T.SLA_MET: Entry(SLA_EVENTS, SlaClockEvent),
    T.SLA_CANCELLED: Entry(SLA_EVENTS, SlaClockEvent),
    T.SLA_CALENDAR_UPDATED: Entry(SLA_EVENTS, CalendarUpdated),
    T.ESCALATION_REMINDER: Entry(ESCALATIONS_EVENTS, RequesterReminded),
    T.ESCALATION_MANAGER: Entry(ESCALATIONS_EVENTS, ManagerEscalated),
    T.ESCALATION_AUTO_RESOLVE: Entry(ESCALATIONS_EVENTS, AutoResolved),
    T.ESCALATION_SLA: Entry(ESCALATIONS_EVENTS, SlaEscalated),
    T.ESCALATION_NEGATIVE_FEEDBACK: Entry(ESCALATIONS_EVENTS, NegativeFeedbackEscalated),
    T.SURVEY_REQUESTED: Entry(SURVEYS_EVENTS, SurveyRequested),
    T.SURVEY_ANSWERED: Entry(SURVEYS_EVENTS, SurveyAnswered),
    T.SURVEY_NEGATIVE: Entry(SURVEYS_EVENTS, SurveyAnswered),
    T.OUTAGE_DECLARED: Entry(OUTAGES_EVENTS, OutageEvent),
    T.OUTAGE_UPDATED: Entry(OUTAGES_EVENTS, OutageEvent),
    T.OUTAGE_RESOLVED: Entry(OUTAGES_EVENTS, OutageEvent),
    T.NOTIFICATION_SENT: Entry(NOTIFICATIONS_EVENTS, NotificationOutcome),
    T.NOTIFICATION_FAILED: Entry(NOTIFICATIONS_EVENTS, NotificationOutcome),
}
