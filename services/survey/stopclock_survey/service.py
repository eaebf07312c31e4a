"""Use cases of the survey service: (session, input, now) -> state + outbox rows.

Functions never commit; the HTTP dependency or the consumer loop owns the transaction.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.topics import SURVEYS_EVENTS, TICKETS_COMMANDS
from stopclock_shared.events.types import EventType
from stopclock_shared.outbox import Outbox

from . import metrics
from . import repository as repo
from .domain.csat import CsatStats, SurveyOutcome, stats
from .domain.eligibility import should_survey
from .domain.survey import (
    NegativeFeedbackGiven,
    ReopenRequested,
    Survey,
    SurveyAnswered,
    SurveyEvent,
    SurveyStatus,
    answer,
    new_survey,
)
from .domain.tokens import new_token, token_digest

SOURCE = "stopclock/survey"
REOPEN_REASON = "survey_not_resolved"
TOKEN_BYTES = 32  # 256 bits; the domain asks for at least 128


def survey_url(public_base: str, token: str) -> str:
    """The link of the invitation mail (``STOPCLOCK_PUBLIC_SURVEY_URL`` + ``/s/`` + token)."""
    return f"{public_base.rstrip('/')}/s/{token}"


def survey_of(row: RowMapping) -> Survey:
    """The domain survey of a ``surveys`` row."""
    return Survey(
        id=str(row["id"]),
        ticket_id=str(row["ticket_id"]),
        requester_id=row["requester_id"],
        sent_at=row["sent_at"],
        expires_at=row["expires_at"],
        status=SurveyStatus(row["status"]),
        rating=row["rating"],
        resolved=row["resolved"],
        comment=row["comment"],
        answered_at=row["answered_at"],
    )


async def _emit(
    session: AsyncSession,
    outbox: Outbox,
    type_: str,
    ticket_id: str,
    data: dict[str, Any],
    at: datetime,
    cause: Envelope | None = None,
    *,
    command: bool = False,
) -> None:
    envelope = new_envelope(
        type_, source=SOURCE, subject=ticket_id, time=at, data=data, cause=cause
    )
    await outbox.add(session, TICKETS_COMMANDS if command else SURVEYS_EVENTS, ticket_id, envelope)


async def ticket_resolved(
    session: AsyncSession,
    outbox: Outbox,
    env: Envelope,
    ticket: dict[str, Any],
    resolution_reason: str | None,
    *,
    public_base: str,
    valid_for: timedelta,
    now: datetime,
) -> RowMapping | None:
    """Send a survey for a resolution (none for a ticket resolved for lack of response).

    The survey counts from the resolution's event time, so a late consumer never hands
    the requester a longer window than the one promised; a resolution whose survey would
    already have expired (history replayed into a new deployment) gets none.
    """
    if not should_survey(resolution_reason) or env.time + valid_for <= now:
        return None
    token = new_token(secrets.token_bytes(TOKEN_BYTES))
    survey = new_survey(
        survey_id=str(uuid.uuid4()),
        ticket_id=str(ticket["id"]),
        requester_id=str(ticket["requester"]["id"]),
        sent_at=env.time,
        valid_for=valid_for,
    )
    row = await repo.insert_survey(
        session,
        {
            "id": uuid.UUID(survey.id),
            "ticket_id": uuid.UUID(survey.ticket_id),
            "requester_id": survey.requester_id,
            "service": ticket.get("service"),
            "token_digest": token_digest(token),
            "status": survey.status.value,
            "sent_at": survey.sent_at,
            "expires_at": survey.expires_at,
            "ticket": ticket,
        },
    )
    await _emit(
        session,
        outbox,
        EventType.SURVEY_REQUESTED,
        survey.ticket_id,
        {
            "survey_id": survey.id,
            "token": token,
            "url": survey_url(public_base, token),
            "ticket": ticket,
            "expires_at": survey.expires_at.isoformat(),
        },
        env.time,
        env,
    )
    return row


async def sla_breached(session: AsyncSession, ticket_id: str, at: datetime) -> None:
    """Remember that a ticket's SLA was breached (CSAT after breach versus without)."""
    await repo.mark_breached(session, uuid.UUID(ticket_id), at)


@dataclass(frozen=True, slots=True)
class Answered:
    survey: Survey
    events: tuple[SurveyEvent, ...]
    after_breach: bool

    @property
    def negative(self) -> bool:
        return any(isinstance(e, NegativeFeedbackGiven) for e in self.events)

    @property
    def reopened(self) -> bool:
        return any(isinstance(e, ReopenRequested) for e in self.events)


async def answer_survey(
    session: AsyncSession,
    outbox: Outbox,
    row: RowMapping,
    *,
    rating: int,
    resolved: bool,
    comment: str,
    now: datetime,
) -> Answered:
    """Store the one answer of a survey (row locked by the caller) and announce it.

    Raises the domain's ``AlreadyAnswered``, ``SurveyExpired`` or ``InvalidAnswer``.
    """
    answered, events = answer(
        survey_of(row), rating=rating, resolved=resolved, comment=comment, now=now
    )
    await repo.update_survey(
        session,
        row["id"],
        {
            "status": answered.status.value,
            "rating": answered.rating,
            "resolved": answered.resolved,
            "comment": answered.comment,
            "answered_at": answered.answered_at,
        },
    )
    ticket: dict[str, Any] = row["ticket"]
    for event in events:
        await _announce(session, outbox, event, ticket)
    after_breach = await repo.was_breached(session, row["ticket_id"])
    return Answered(answered, events, after_breach)


async def _announce(
    session: AsyncSession, outbox: Outbox, event: SurveyEvent, ticket: dict[str, Any]
) -> None:
    if isinstance(event, ReopenRequested):
        await _emit(
            session,
            outbox,
            EventType.COMMAND_REOPEN,
            event.ticket_id,
            {"ticket_id": event.ticket_id, "reason": REOPEN_REASON},
            event.at,
            command=True,
        )
        return
    type_ = (
        EventType.SURVEY_ANSWERED
        if isinstance(event, SurveyAnswered)
        else EventType.SURVEY_NEGATIVE
    )
    data = {
        "survey_id": event.survey_id,
        "ticket": ticket,
        "rating": event.rating,
        "resolved": event.resolved,
        "comment": event.comment,
    }
    await _emit(session, outbox, type_, event.ticket_id, data, event.at)


def count_answer(result: Answered) -> None:
    """Metrics of a committed answer."""
    satisfied = "true" if (result.survey.rating or 0) >= 4 else "false"
    metrics.ANSWERED.labels(satisfied, "true" if result.after_breach else "false").inc()
    if result.negative:
        metrics.NEGATIVE.inc()


async def mark_expired(session: AsyncSession, row: RowMapping) -> None:
    """Mark one survey found past its expiry (the page saw it before the sweep did)."""
    if row["status"] == SurveyStatus.SENT:
        await repo.update_survey(session, row["id"], {"status": SurveyStatus.EXPIRED.value})
        metrics.EXPIRED.inc()


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """Mark every unanswered survey past its expiry; returns how many."""
    count = await repo.expire_due(session, now)
    metrics.EXPIRED.inc(count)
    return count


async def csat_stats(
    session: AsyncSession, since: datetime | None, until: datetime | None, service: str | None
) -> CsatStats:
    rows = await repo.outcomes(session, since, until, service)
    return stats(SurveyOutcome(r["service"], bool(r["after_breach"]), r["rating"]) for r in rows)
