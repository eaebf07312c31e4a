"""A satisfaction survey: ``sent → answered | expired``, answered at most once.

A rating of 2 or less, or "not resolved", is negative feedback (the desk manager is
told); "not resolved" also asks the ticket service to reopen the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from stopclock_shared.errors import FieldError

from .errors import AlreadyAnswered, InvalidAnswer, SurveyExpired

RATINGS = range(1, 6)
NEGATIVE_AT_OR_BELOW = 2
# Long enough for a real story, short enough that a form cannot be used to store files.
MAX_COMMENT_LENGTH = 2000
# A fortnight covers holidays; older answers describe memory rather than the service.
SURVEY_VALIDITY = timedelta(days=14)


class SurveyStatus(StrEnum):
    SENT = "sent"
    ANSWERED = "answered"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Survey:
    """One requester's survey of one resolution."""

    id: str
    ticket_id: str
    requester_id: str
    sent_at: datetime
    expires_at: datetime
    status: SurveyStatus
    # The answer: None until given.
    rating: int | None
    resolved: bool | None
    comment: str | None
    answered_at: datetime | None


def new_survey(
    *,
    survey_id: str,
    ticket_id: str,
    requester_id: str,
    sent_at: datetime,
    valid_for: timedelta = SURVEY_VALIDITY,
) -> Survey:
    """A survey sent at ``sent_at`` that takes answers until ``sent_at + valid_for``."""
    return Survey(
        id=survey_id,
        ticket_id=ticket_id,
        requester_id=requester_id,
        sent_at=sent_at,
        expires_at=sent_at + valid_for,
        status=SurveyStatus.SENT,
        rating=None,
        resolved=None,
        comment=None,
        answered_at=None,
    )


@dataclass(frozen=True, slots=True)
class SurveyAnswered:
    """The one answer, as the desk reads it (``comment`` cleaned, None when blank)."""

    survey_id: str
    ticket_id: str
    rating: int
    resolved: bool
    comment: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class NegativeFeedbackGiven(SurveyAnswered):
    """Same content as the answer; a complaint to recover from, not noise."""


@dataclass(frozen=True, slots=True)
class ReopenRequested:
    """The requester says the issue is not resolved: reopen the ticket."""

    survey_id: str
    ticket_id: str
    at: datetime


SurveyEvent = SurveyAnswered | NegativeFeedbackGiven | ReopenRequested


def is_negative(rating: int, resolved: bool) -> bool:
    """Negative feedback: a rating of 2 or less, or the issue not resolved."""
    return rating <= NEGATIVE_AT_OR_BELOW or not resolved


def clean_comment(comment: str) -> str | None:
    """Trimmed comment, None when blank. NUL is dropped: PostgreSQL text cannot hold it."""
    text = comment.replace("\x00", "").strip()
    return text or None


def _answer_errors(
    rating: int | None, resolved: bool | None, comment: str | None
) -> tuple[FieldError, ...]:
    errors: list[FieldError] = []
    # bool is an int in Python; True must not pass as a rating of 1.
    if rating is None or isinstance(rating, bool) or rating not in RATINGS:
        errors.append(FieldError("rating", "must be a whole number from 1 to 5"))
    if resolved is None:
        errors.append(FieldError("resolved", "must be yes or no"))
    if comment is not None and len(comment) > MAX_COMMENT_LENGTH:
        errors.append(FieldError("comment", f"must be at most {MAX_COMMENT_LENGTH} characters"))
    return tuple(errors)


def ensure_open(survey: Survey, now: datetime) -> None:
    """Raise ``AlreadyAnswered``, else ``SurveyExpired`` (also when the expiry time has
    passed but the survey was not marked yet), unless ``survey`` takes its answer."""
    if survey.status is SurveyStatus.ANSWERED:
        raise AlreadyAnswered(f"survey {survey.id} was already answered")
    if survey.status is SurveyStatus.EXPIRED or now >= survey.expires_at:
        raise SurveyExpired(f"survey {survey.id} expired at {survey.expires_at.isoformat()}")


def answer(
    survey: Survey, *, rating: int | None, resolved: bool | None, comment: str, now: datetime
) -> tuple[Survey, tuple[SurveyEvent, ...]]:
    """Store the one answer of ``survey`` at ``now`` (None: the form left it out).

    Raises as `ensure_open` does, then ``InvalidAnswer`` naming every field to fix, in
    form order.
    """
    ensure_open(survey, now)
    text = clean_comment(comment)
    errors = _answer_errors(rating, resolved, text)
    if errors:
        raise InvalidAnswer(errors)
    assert rating is not None  # no errors: both were given
    assert resolved is not None
    answered = replace(
        survey,
        status=SurveyStatus.ANSWERED,
        rating=rating,
        resolved=resolved,
        comment=text,
        answered_at=now,
    )
    events: list[SurveyEvent] = [
        SurveyAnswered(survey.id, survey.ticket_id, rating, resolved, text, now)
    ]
    if is_negative(rating, resolved):
        events.append(
            NegativeFeedbackGiven(survey.id, survey.ticket_id, rating, resolved, text, now)
        )
    if not resolved:
        events.append(ReopenRequested(survey.id, survey.ticket_id, now))
    return answered, tuple(events)


def expire(survey: Survey, now: datetime) -> Survey:
    """Mark a still-unanswered survey expired once ``now`` reaches its expiry; else unchanged."""
    if survey.status is SurveyStatus.SENT and now >= survey.expires_at:
        return replace(survey, status=SurveyStatus.EXPIRED)
    return survey
