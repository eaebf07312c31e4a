"""The events the survey service emits (``surveys.events``) and the commands it sends the
ticket service (``tickets.commands``), built against their contract models.

The ticket snapshot a survey carries travels on exactly as the ticket service wrote it
(event-carried state), so a payload is checked against its model and sent as built.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from stopclock_shared.events import surveys
from stopclock_shared.events.commands import CommentCommand, ReopenCommand, ResolveCommand
from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.payload import Payload
from stopclock_shared.events.types import EventType
from stopclock_shared.events.vocabulary import SURVEY_NOT_RESOLVED, Channel, ResolveReason

from .domain import survey
from .domain.answers import CONFIRMED_RESOLUTION
from .repository import Json

SOURCE = "stopclock/survey"
# ``reason`` of the reopen command a "not resolved" answer sends.
REOPEN_REASON = SURVEY_NOT_RESOLVED


def _envelope(
    type_: EventType,
    model: type[Payload],
    data: dict[str, Any],
    ticket_id: str,
    at: datetime,
    cause: Envelope | None = None,
) -> Envelope:
    model.model_validate(data)  # the contract holds before anything is written
    return new_envelope(type_, source=SOURCE, subject=ticket_id, time=at, data=data, cause=cause)


def survey_requested(
    *,
    survey_id: str,
    token: str,
    url: str,
    ticket: Json,
    expires_at: datetime,
    at: datetime,
    cause: Envelope,
) -> Envelope:
    """``stopclock.survey.requested.v1``: the mail to send, caused by the resolution."""
    data = {
        "survey_id": survey_id,
        "token": token,
        "url": url,
        "ticket": ticket,
        "expires_at": expires_at.isoformat(),
    }
    return _envelope(
        EventType.SURVEY_REQUESTED, surveys.SurveyRequested, data, str(ticket["id"]), at, cause
    )


def survey_outcome(event: survey.SurveyAnswered, ticket: Json) -> Envelope:
    """``stopclock.survey.answered.v1`` or ``.negative.v1`` (the same payload)."""
    type_ = (
        EventType.SURVEY_NEGATIVE
        if isinstance(event, survey.NegativeFeedbackGiven)
        else EventType.SURVEY_ANSWERED
    )
    data = {
        "survey_id": event.survey_id,
        "ticket": ticket,
        "rating": event.rating,
        "resolved": event.resolved,
        "comment": event.comment,
    }
    return _envelope(type_, surveys.SurveyAnswered, data, event.ticket_id, event.at)


def reopen(ticket_id: str, at: datetime) -> Envelope:
    """Ask the ticket service to reopen a ticket its requester says is not resolved."""
    command = ReopenCommand(ticket_id=ticket_id, reason=REOPEN_REASON)
    return _command(EventType.COMMAND_REOPEN, command, at)


def requester_comment(ticket_id: str, requester_id: str, body: str, at: datetime) -> Envelope:
    """The requester's public comment, sent from the answer page."""
    command = CommentCommand(
        ticket_id=ticket_id,
        body=body,
        visibility="public",
        author_id=requester_id,
        channel=Channel.PAGE,
    )
    return _command(EventType.COMMAND_COMMENT, command, at)


def confirmed_resolution(ticket_id: str, at: datetime) -> Envelope:
    """Resolve: the requester confirmed on the answer page that it works."""
    command = ResolveCommand(
        ticket_id=ticket_id,
        resolution=CONFIRMED_RESOLUTION,
        reason=ResolveReason.CONFIRMED_BY_REQUESTER,
    )
    return _command(EventType.COMMAND_RESOLVE, command, at)


def _command(
    type_: EventType, command: ReopenCommand | CommentCommand | ResolveCommand, at: datetime
) -> Envelope:
    data = command.model_dump(mode="json")
    return new_envelope(type_, source=SOURCE, subject=command.ticket_id, time=at, data=data)
