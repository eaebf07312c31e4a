"""HTTP models of the survey API (contract: API.md, "Survey service")."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class SurveyRead(BaseModel):
    id: uuid.UUID
    ticket_id: uuid.UUID
    requester_id: str
    status: str = Field(description="sent, answered or expired")
    rating: int | None
    resolved: bool | None
    comment: str | None
    sent_at: datetime
    answered_at: datetime | None
    expires_at: datetime
    service: str | None


class ServiceFiguresRead(BaseModel):
    sent: int
    answered: int
    csat: float | None


class AnsweredFiguresRead(BaseModel):
    answered: int
    csat: float | None


class StatsRead(BaseModel):
    sent: int
    answered: int
    response_rate: float | None = Field(description="answered / sent; null when none was sent")
    csat: float | None = Field(description="Share of answers rating 4 or 5; null without answers")
    by_service: dict[str, ServiceFiguresRead] = Field(
        description='Per ticket service; tickets without one are under "(none)"'
    )
    after_breach: AnsweredFiguresRead = Field(description="Tickets with a breached SLA target")
    without_breach: AnsweredFiguresRead
