"""Escalations that are told at once, not timed: SLA warnings and breaches, negative feedback.

Each records an escalation for the ticket and emits the event the notification service
turns into mails (payloads: docs/events.md). Functions never commit.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.business_time import calendar_from_spec
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.types import EventType
from stopclock_shared.outbox import Outbox

from . import repository as repo
from .emit import emit
from .policies import policy_for

# Levels of the escalations that are not rungs of a reminder ladder.
SLA_WARNING_LEVEL = 1
SLA_BREACH_LEVEL = 2
NEGATIVE_FEEDBACK_LEVEL = 1
_COMMENT_IN_DETAIL = 200


class _Data(BaseModel):
    # Producers may add fields (additive changes keep the version).
    model_config = ConfigDict(frozen=True, extra="allow")


class SlaAlert(_Data):
    """``data`` of ``stopclock.sla.warning.v1`` / ``breached.v1`` (the fields we use)."""

    ticket_id: str
    target: str
    due_at: AwareDatetime | None = None
    fraction: float | None = None
    breached_at: AwareDatetime | None = None
    ticket: dict[str, Any]


class NegativeFeedback(_Data):
    """``data`` of ``stopclock.survey.negative.v1``."""

    survey_id: str | None = None
    ticket: dict[str, Any]
    rating: int | None = None
    resolved: bool | None = None
    comment: str | None = None


class CalendarUpdated(_Data):
    """``data`` of ``stopclock.sla.calendar_updated.v1``: the PUT body as ``spec``."""

    name: str = Field(min_length=1, max_length=200)
    spec: dict[str, Any]
    updated_at: AwareDatetime


async def sla_alert(
    session: AsyncSession,
    outbox: Outbox,
    env: Envelope,
    alert: SlaAlert,
    *,
    breach: bool,
    desk_manager_email: str,
) -> None:
    """Record an ``sla_warning``/``sla_breach`` and tell the assignee (and desk manager)."""
    policy = await policy_for(session, alert.ticket, desk_manager_email)
    due = alert.due_at.isoformat() if alert.due_at else "unknown"
    if breach:
        detail = f"{alert.target} target breached (due {due})"
    else:
        share = f"{alert.fraction:.0%}" if alert.fraction is not None else "a warning threshold"
        detail = f"{alert.target} target at {share} of its time (due {due})"
    await repo.insert_escalation(
        session,
        ticket_id=uuid.UUID(alert.ticket_id),
        kind="sla_breach" if breach else "sla_warning",
        level=SLA_BREACH_LEVEL if breach else SLA_WARNING_LEVEL,
        detail=detail,
        at=env.time,
    )
    data: dict[str, Any] = {
        "ticket": alert.ticket,
        "target": alert.target,
        "kind": "breach" if breach else "warning",
        "due_at": alert.due_at.isoformat() if alert.due_at else None,
        "desk_manager_email": policy.desk_manager_email,
    }
    if alert.fraction is not None:
        data["fraction"] = alert.fraction
    await emit(
        session, outbox, EventType.ESCALATION_SLA, alert.ticket_id, data, env.time, cause=env
    )


async def negative_feedback(
    session: AsyncSession,
    outbox: Outbox,
    env: Envelope,
    feedback: NegativeFeedback,
    *,
    desk_manager_email: str,
) -> None:
    """A complaint is a failure to recover from: record it and tell the desk manager."""
    ticket_id = str(feedback.ticket["id"])
    policy = await policy_for(session, feedback.ticket, desk_manager_email)
    await repo.insert_escalation(
        session,
        ticket_id=uuid.UUID(ticket_id),
        kind="negative_feedback",
        level=NEGATIVE_FEEDBACK_LEVEL,
        detail=_feedback_detail(feedback),
        at=env.time,
    )
    await emit(
        session,
        outbox,
        EventType.ESCALATION_NEGATIVE_FEEDBACK,
        ticket_id,
        {
            "ticket": feedback.ticket,
            "rating": feedback.rating,
            "resolved": feedback.resolved,
            "comment": feedback.comment,
            "desk_manager_email": policy.desk_manager_email,
        },
        env.time,
        cause=env,
    )


def _feedback_detail(feedback: NegativeFeedback) -> str:
    parts = [f"rating {feedback.rating}/5" if feedback.rating is not None else "no rating"]
    if feedback.resolved is False:
        parts.append("not resolved: the ticket is reopened")
    if feedback.comment:
        text = feedback.comment.strip()
        cut = text[:_COMMENT_IN_DETAIL] + ("…" if len(text) > _COMMENT_IN_DETAIL else "")
        parts.append(f"comment: {cut}")
    return "negative feedback; " + "; ".join(parts)


async def calendar_updated(session: AsyncSession, update: CalendarUpdated) -> None:
    """Keep a copy of an SLA calendar; a spec we cannot read raises (and is dead-lettered)."""
    calendar_from_spec(update.name, update.spec)
    await repo.upsert_calendar(session, update.name, update.spec, update.updated_at)
