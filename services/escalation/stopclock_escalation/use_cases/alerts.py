"""Escalations told at once, not timed: SLA warnings and breaches, negative feedback.

Each records an escalation for the ticket and emits the event the notification service
turns into mails, naming the desk manager of the ticket's policy.
"""

from __future__ import annotations

from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.sla import SlaClockEvent
from stopclock_shared.events.surveys import SurveyAnswered

from ..domain.escalations import (
    NEGATIVE_FEEDBACK_LEVEL,
    SLA_BREACH_LEVEL,
    SLA_WARNING_LEVEL,
    EscalationKind,
    feedback_detail,
    sla_alert_detail,
)
from ..events import negative_feedback_escalated, sla_escalated
from ..repository import EscalationUnitOfWork, NewEscalation
from .policies import policy_for


async def sla_alert(
    uow: EscalationUnitOfWork,
    alert: SlaClockEvent,
    *,
    breach: bool,
    cause: Envelope,
    desk_manager_email: str,
) -> None:
    """Record an ``sla_warning``/``sla_breach`` and tell the assignee (and desk manager)."""
    policy = await policy_for(uow, alert.ticket, desk_manager_email)
    await uow.repo.insert_escalation(
        NewEscalation(
            alert.ticket_id,
            EscalationKind.SLA_BREACH if breach else EscalationKind.SLA_WARNING,
            SLA_BREACH_LEVEL if breach else SLA_WARNING_LEVEL,
            sla_alert_detail(alert.target, alert.due_at, alert.fraction, breach=breach),
            cause.time,
        )
    )
    await uow.emit(
        *sla_escalated(
            alert, breach=breach, desk_manager_email=policy.desk_manager_email, cause=cause
        )
    )


async def negative_feedback(
    uow: EscalationUnitOfWork, answer: SurveyAnswered, *, cause: Envelope, desk_manager_email: str
) -> None:
    """A complaint is a failure to recover from: record it and tell the desk manager."""
    policy = await policy_for(uow, answer.ticket, desk_manager_email)
    await uow.repo.insert_escalation(
        NewEscalation(
            answer.ticket.id,
            EscalationKind.NEGATIVE_FEEDBACK,
            NEGATIVE_FEEDBACK_LEVEL,
            feedback_detail(answer.rating, answer.resolved, answer.comment),
            cause.time,
        )
    )
    await uow.emit(
        *negative_feedback_escalated(
            answer, desk_manager_email=policy.desk_manager_email, cause=cause
        )
    )
