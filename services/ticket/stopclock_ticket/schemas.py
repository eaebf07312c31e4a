"""HTTP models of the ticket API (contract: API.md, "Ticket service")."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from pydantic.json_schema import SkipJsonSchema

from stopclock_shared.events.vocabulary import Channel, NoteKind
from stopclock_shared.validation import EmailAddress, LocaleName, StrictBool, TimeZoneName

from .domain.vocabulary import Level, TicketType, Visibility
from .records import OutageRecord, PersonRecord, SubscriptionRecord, TicketFields

# Limits of a ticket's text (what arrives by mail is fitted to them, service.py).
TITLE_MAX, DESCRIPTION_MAX, COMMENT_MAX = 300, 50000, 20000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonIn(_In):
    name: str = Field(min_length=1, max_length=300)
    email: EmailAddress
    manager_id: str | None = Field(default=None, max_length=200)
    timezone: TimeZoneName = "UTC"
    locale: LocaleName = "en"
    vip: StrictBool = False
    difficult: StrictBool = False


# Read models are the stored records (`records`): a field is declared once, from the table
# to the response; the TypedDict's name is the OpenAPI component's.
class PersonRead(PersonRecord):
    """A requester, agent or manager the desk knows (their mails, their manager)."""


class TicketCreate(_In):
    type: TicketType
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX)
    requester_id: str = Field(min_length=1, max_length=200)
    impact: Level
    urgency: Level
    service: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    work_blocked: StrictBool = False


class TicketUpdate(_In):
    """Only the fields sent change. ``null`` clears a field that may be empty (assignee,
    group, service, category); the others cannot be cleared, so ``null`` there is a 422."""

    # SkipJsonSchema: the document says these take no null, though absent means "unchanged".
    title: Annotated[str, Field(min_length=1, max_length=TITLE_MAX)] | SkipJsonSchema[None] = None
    description: (
        Annotated[str, Field(min_length=1, max_length=DESCRIPTION_MAX)] | SkipJsonSchema[None]
    ) = None
    impact: Level | SkipJsonSchema[None] = None
    urgency: Level | SkipJsonSchema[None] = None
    assignee_id: str | None = Field(default=None, max_length=200)
    group: str | None = Field(default=None, max_length=200)
    service: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    work_blocked: StrictBool | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _no_null_where_a_value_is_required(self) -> TicketUpdate:
        for name in NOT_CLEARABLE & self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null: leave it out to keep it unchanged")
        return self


NOT_CLEARABLE = frozenset({"title", "description", "impact", "urgency", "work_blocked"})


class TicketRead(TicketFields):
    """An incident or a service request."""


TICKET_READ: TypeAdapter[TicketRead] = TypeAdapter(TicketRead)


def read_json(read: TypeAdapter[Any], stored: Mapping[str, object]) -> dict[str, Any]:
    """``stored`` as the read model shows it, in JSON types (what is stored only is left out)."""
    data: dict[str, Any] = read.dump_python(read.validate_python(stored), mode="json")
    return data


class TicketFilters(BaseModel):
    """What ``GET /tickets`` narrows the list by (every filter optional)."""

    status: str | None = None
    requester_id: str | None = None
    assignee_id: str | None = None
    priority: str | None = None
    service: str | None = None


class TransitionIn(_In):
    to: str = Field(min_length=1)
    reason: str | None = None
    note: str | None = Field(default=None, max_length=20000)
    resolution: str | None = Field(default=None, max_length=20000)


class CommentIn(_In):
    body: str = Field(min_length=1, max_length=COMMENT_MAX)
    visibility: Visibility = Visibility.PUBLIC


class CommentRead(BaseModel):
    id: uuid.UUID
    ticket_id: uuid.UUID
    body: str
    visibility: str
    author_id: str
    channel: Channel
    # Additive: why the mail gateway left this internal note (auto_reply, bounce, ...).
    note_kind: NoteKind | None = None
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


class OutageRead(OutageRecord):
    """An outage, how many subscribers this announcement told, and its updates."""

    subscribers_notified: int
    updates: list[OutageUpdateRead]


OUTAGE_READ: TypeAdapter[OutageRead] = TypeAdapter(OutageRead)


class SubscriptionRead(SubscriptionRecord):
    """A person told of a service's outages."""
