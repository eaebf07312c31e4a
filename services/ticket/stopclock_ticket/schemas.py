"""HTTP models of the ticket API (contract: API.md, "Ticket service")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

Level = Literal["high", "medium", "low"]
# Limits of a ticket's text (what arrives by mail is fitted to them, service.py).
TITLE_MAX, DESCRIPTION_MAX, COMMENT_MAX = 300, 50000, 20000
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonIn(_In):
    name: str = Field(min_length=1, max_length=300)
    email: str = Field(pattern=EMAIL, max_length=320)
    manager_id: str | None = Field(default=None, max_length=200)
    timezone: str = "UTC"
    locale: str = Field(default="en", pattern=r"^[a-z]{2}([-_][A-Za-z]{2})?$")
    vip: bool = False
    difficult: bool = False

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value


class PersonRead(BaseModel):
    id: str
    name: str
    email: str
    manager_id: str | None
    timezone: str
    locale: str
    vip: bool
    difficult: bool
    created_at: datetime
    updated_at: datetime


class TicketCreate(_In):
    type: Literal["incident", "service_request"]
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX)
    requester_id: str = Field(min_length=1, max_length=200)
    impact: Level
    urgency: Level
    service: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    work_blocked: bool = False


class TicketUpdate(_In):
    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    description: str | None = Field(default=None, min_length=1, max_length=DESCRIPTION_MAX)
    impact: Level | None = None
    urgency: Level | None = None
    assignee_id: str | None = Field(default=None, max_length=200)
    group: str | None = Field(default=None, max_length=200)
    service: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    work_blocked: bool | None = None


class TicketRead(BaseModel):
    id: uuid.UUID
    number: str
    type: str
    title: str
    description: str
    status: str
    waiting_reason: str | None
    priority: str
    impact: str
    urgency: str
    requester_id: str
    assignee_id: str | None
    group: str | None
    service: str | None
    category: str | None
    work_blocked: bool
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution: str | None
    version: int
    # Additive: when the current wait on the requester began (null unless waiting_on_user).
    waiting_since: datetime | None


class TransitionIn(_In):
    to: str = Field(min_length=1)
    reason: str | None = None
    note: str | None = Field(default=None, max_length=20000)
    resolution: str | None = Field(default=None, max_length=20000)


class CommentIn(_In):
    body: str = Field(min_length=1, max_length=COMMENT_MAX)
    visibility: Literal["public", "internal"] = "public"


class CommentRead(BaseModel):
    id: uuid.UUID
    ticket_id: uuid.UUID
    body: str
    visibility: str
    author_id: str
    channel: Literal["api", "email", "page"]
    # Additive: why the mail gateway left this internal note (auto_reply, bounce, ...).
    note_kind: str | None = None
    created_at: datetime


class HistoryRead(BaseModel):
    id: int
    ticket_id: uuid.UUID
    version: int
    action: str
    actor_id: str | None
    changes: dict[str, Any]
    created_at: datetime


class OutageIn(_In):
    service: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=20000)
    impact: Level


class OutageMessageIn(_In):
    message: str = Field(min_length=1, max_length=20000)


class OutageUpdateRead(BaseModel):
    kind: str
    message: str
    created_at: datetime


class OutageRead(BaseModel):
    id: uuid.UUID
    service: str
    title: str
    description: str
    impact: str
    status: str
    created_at: AwareDatetime
    resolved_at: AwareDatetime | None
    subscribers_notified: int
    updates: list[OutageUpdateRead]


class SubscriptionRead(BaseModel):
    service: str
    person_id: str
    created_at: datetime
