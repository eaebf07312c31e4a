"""``surveys.events`` (key: ticket id): satisfaction surveys sent and answered."""

from __future__ import annotations

from pydantic import AwareDatetime

from .payload import Payload
from .tickets import TicketSnapshot


class SurveyRequested(Payload):
    """A survey to send to the requester; ``url`` is the page its mail links to."""

    survey_id: str
    token: str
    url: str
    ticket: TicketSnapshot
    expires_at: AwareDatetime


class SurveyAnswered(Payload):
    """An answer (``stopclock.survey.negative.v1`` has the same shape)."""

    survey_id: str
    ticket: TicketSnapshot
    rating: int
    resolved: bool
    comment: str | None
