"""Use cases of the satisfaction surveys: send one for a resolution, take its one answer,
expire the unanswered, list them and give CSAT figures.

They run in the caller's unit of work (the HTTP request, the consumer's poll, the expiry
loop) and never commit; metrics follow only what is committed.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from stopclock_shared.auth import Principal
from stopclock_shared.errors import Forbidden
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.tickets import TicketStatusChanged
from stopclock_shared.events.topics import SURVEYS_EVENTS, TICKETS_COMMANDS
from stopclock_shared.unit_of_work import UnitOfWork

from .. import events, metrics
from ..domain import survey as domain
from ..domain.csat import SATISFIED_AT_OR_ABOVE, CsatStats, stats
from ..domain.eligibility import should_survey
from ..domain.errors import SurveyExpired, UnknownLink
from ..domain.survey import NegativeFeedbackGiven, ReopenRequested, Survey, SurveyEvent
from ..domain.tokens import new_token, token_digest
from ..domain.waits import RESOLVED
from ..repository import SurveyQuery, SurveyRecord, SurveyRepository

TOKEN_BYTES = 32  # 256 bits; the domain asks for at least 128


def survey_url(public_base: str, token: str) -> str:
    """The link of the invitation mail (``STOPCLOCK_PUBLIC_SURVEY_URL`` + ``/s/`` + token)."""
    return f"{public_base.rstrip('/')}/s/{token}"


async def request_survey(
    uow: UnitOfWork[SurveyRepository],
    resolution: TicketStatusChanged,
    cause: Envelope,
    *,
    public_base: str,
    valid_for: timedelta,
    now: datetime,
) -> Survey | None:
    """Send a survey when a ticket is resolved (none for lack of response).

    ``cause`` is the resolution's envelope: the survey counts from its time, so a late
    consumer never hands the requester a longer window than the one promised, and a
    resolution whose survey would already have expired (history replayed into a new
    deployment) gets none. The ticket travels on as the ticket service wrote it.
    """
    if resolution.to_status != RESOLVED:
        return None
    ticket = resolution.ticket
    # The ticket service says why it was resolved; older events only in the snapshot.
    reason = resolution.resolution_reason or ticket.resolution_reason
    if not should_survey(reason) or cause.time + valid_for <= now:
        return None
    token = new_token(secrets.token_bytes(TOKEN_BYTES))
    survey = domain.new_survey(
        survey_id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        requester_id=ticket.requester.id,
        sent_at=cause.time,
        valid_for=valid_for,
    )
    record = SurveyRecord(survey, ticket.service, cause.data["ticket"])
    await uow.repo.add_survey(record, token_digest(token))
    requested = events.survey_requested(
        survey_id=survey.id,
        token=token,
        url=survey_url(public_base, token),
        ticket=record.ticket,
        expires_at=survey.expires_at,
        at=cause.time,
        cause=cause,
    )
    await uow.emit(SURVEYS_EVENTS, survey.ticket_id, requested)
    uow.after_commit(metrics.SENT.inc)
    return survey


async def sla_breached(uow: UnitOfWork[SurveyRepository], ticket_id: str, at: datetime) -> None:
    """Remember that a ticket's SLA was breached (CSAT after breach versus without)."""
    await uow.repo.mark_breached(uuid.UUID(ticket_id), at)


async def find_survey(
    uow: UnitOfWork[SurveyRepository], token: str, *, for_update: bool = False
) -> SurveyRecord:
    """The survey of a link (``for_update``: locked, to answer it); ``UnknownLink`` if none."""
    record = await uow.repo.survey_by_digest(token_digest(token), for_update=for_update)
    if record is None:
        raise UnknownLink("survey")
    return record


async def ensure_open(
    uow: UnitOfWork[SurveyRepository], record: SurveyRecord, now: datetime
) -> None:
    """Raise ``AlreadyAnswered`` or ``SurveyExpired`` unless the survey takes its answer;
    a survey found past its expiry is marked expired (the page saw it before the sweep)."""
    try:
        domain.ensure_open(record.survey, now)
    except SurveyExpired:
        await _mark_expired(uow, record.survey, now)
        raise


async def _mark_expired(uow: UnitOfWork[SurveyRepository], survey: Survey, now: datetime) -> None:
    expired = domain.expire(survey, now)
    if expired is not survey:
        await uow.repo.save_survey(expired)
        uow.after_commit(metrics.EXPIRED.inc)


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
    uow: UnitOfWork[SurveyRepository],
    record: SurveyRecord,
    *,
    rating: int | None,
    resolved: bool | None,
    comment: str,
    now: datetime,
) -> Answered:
    """Store the one answer of a survey (found ``for_update``) and announce it: the answer,
    negative feedback for the desk manager, a reopen command when not resolved.

    Raises the domain's ``AlreadyAnswered``, ``SurveyExpired`` (the survey is then marked
    expired) or ``InvalidAnswer`` (None: the form left the field out).
    """
    try:
        answered, outcome = domain.answer(
            record.survey, rating=rating, resolved=resolved, comment=comment, now=now
        )
    except SurveyExpired:
        await _mark_expired(uow, record.survey, now)
        raise
    await uow.repo.save_survey(answered)
    for event in outcome:
        if isinstance(event, ReopenRequested):
            await uow.emit(TICKETS_COMMANDS, event.ticket_id, events.reopen(event.ticket_id, now))
        else:
            await uow.emit(
                SURVEYS_EVENTS, event.ticket_id, events.survey_outcome(event, record.ticket)
            )
    after_breach = await uow.repo.was_breached(uuid.UUID(answered.ticket_id))
    result = Answered(answered, outcome, after_breach)
    uow.after_commit(lambda: _count(result))
    return result


def _count(result: Answered) -> None:
    satisfied = "true" if (result.survey.rating or 0) >= SATISFIED_AT_OR_ABOVE else "false"
    metrics.ANSWERED.labels(satisfied, "true" if result.after_breach else "false").inc()
    if result.negative:
        metrics.NEGATIVE.inc()


async def expire_due(uow: UnitOfWork[SurveyRepository], now: datetime) -> int:
    """Mark every unanswered survey past its expiry; returns how many."""
    count = await uow.repo.expire_due(now)
    if count:
        uow.after_commit(lambda: metrics.EXPIRED.inc(count))
    return count


async def list_surveys(
    uow: UnitOfWork[SurveyRepository], viewer: Principal, query: SurveyQuery
) -> Sequence[SurveyRecord]:
    """Surveys in the order sent (``limit + 1``: the extra one says there are more);
    requesters see their own only."""
    if not viewer.is_staff:
        if query.requester_id not in (None, viewer.sub):
            raise Forbidden("Requesters may only list their own surveys")
        query = replace(query, requester_id=viewer.sub)
    return await uow.repo.list_surveys(query)


async def csat_stats(
    uow: UnitOfWork[SurveyRepository],
    since: datetime | None,
    until: datetime | None,
    service: str | None,
) -> CsatStats:
    """Sent, answered, response rate and CSAT of the surveys sent in ``[since, until)``."""
    return stats(await uow.repo.outcomes(since, until, service))
