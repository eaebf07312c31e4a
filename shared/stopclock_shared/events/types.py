"""Every event type of the contract, dotted and versioned."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    TICKET_CREATED = "stopclock.ticket.created.v1"
    TICKET_UPDATED = "stopclock.ticket.updated.v1"
    TICKET_STATUS_CHANGED = "stopclock.ticket.status_changed.v1"
    TICKET_COMMENTED = "stopclock.ticket.commented.v1"
    TICKET_PRIORITY_CHANGED = "stopclock.ticket.priority_changed.v1"

    COMMAND_RESOLVE = "stopclock.ticket.command.resolve.v1"
    COMMAND_REOPEN = "stopclock.ticket.command.reopen.v1"
    COMMAND_COMMENT = "stopclock.ticket.command.comment.v1"
    # Additive: a new ticket from a mail to the desk (the notification service's inbound mail).
    COMMAND_OPEN = "stopclock.ticket.command.open.v1"

    # Additive: the people directory, so the mail gateway knows who writes to the desk.
    PERSON_UPDATED = "stopclock.person.updated.v1"

    SLA_STARTED = "stopclock.sla.started.v1"
    SLA_PAUSED = "stopclock.sla.paused.v1"
    SLA_RESUMED = "stopclock.sla.resumed.v1"
    SLA_WARNING = "stopclock.sla.warning.v1"
    SLA_BREACHED = "stopclock.sla.breached.v1"
    SLA_MET = "stopclock.sla.met.v1"
    SLA_CANCELLED = "stopclock.sla.cancelled.v1"
    # Additive (not in the contract's list): calendar definitions, for the escalation service.
    SLA_CALENDAR_UPDATED = "stopclock.sla.calendar_updated.v1"

    ESCALATION_REMINDER = "stopclock.escalation.reminder.v1"
    ESCALATION_MANAGER = "stopclock.escalation.manager_escalation.v1"
    ESCALATION_AUTO_RESOLVE = "stopclock.escalation.auto_resolve.v1"
    ESCALATION_SLA = "stopclock.escalation.sla_escalation.v1"
    ESCALATION_NEGATIVE_FEEDBACK = "stopclock.escalation.negative_feedback.v1"

    SURVEY_REQUESTED = "stopclock.survey.requested.v1"
    SURVEY_ANSWERED = "stopclock.survey.answered.v1"
    SURVEY_NEGATIVE = "stopclock.survey.negative.v1"

    OUTAGE_DECLARED = "stopclock.outage.declared.v1"
    OUTAGE_UPDATED = "stopclock.outage.updated.v1"
    OUTAGE_RESOLVED = "stopclock.outage.resolved.v1"

    NOTIFICATION_SENT = "stopclock.notification.sent.v1"
    NOTIFICATION_FAILED = "stopclock.notification.failed.v1"
