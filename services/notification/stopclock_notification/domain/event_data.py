"""Reading the `data` of events (docs/events.md) into the few values mails need.

Ticket snapshots are read as the shared typed models (`TicketSnapshot`); the consumer hands
over the typed payload where the event has one, and the rest (escalation and survey events)
arrives as decoded JSON. These readers fail with `MalformedEventData` naming the field, so
the consumer can send the message to the DLQ with a clear error.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from stopclock_notification.domain.locales import (
    DEFAULT_LOCALE,
    DEFAULT_TIMEZONE,
    resolve_locale,
)
from stopclock_shared.events.models import PersonRef, TicketSnapshot

Model = TypeVar("Model", bound=BaseModel)


class MalformedEventData(ValueError):
    """The event lacks a field that the mails it causes need."""


def require(data: Mapping[str, Any], key: str, where: str) -> Any:
    """`data[key]`, which must be present and not null."""
    value = data.get(key)
    if value is None:
        raise MalformedEventData(f"{where}.{key} is missing")
    return value


def optional_text(data: Mapping[str, Any], key: str) -> str | None:
    """`data[key]` as text, or None when absent, null or blank."""
    value = data.get(key)
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def typed(model: type[Model], value: Any, where: str) -> Model:
    """`value` as `model`: as it is when the consumer already decoded it, else validated."""
    if isinstance(value, model):
        return value
    if value is None:
        raise MalformedEventData(f"{where} is missing")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join([where, *(str(p) for p in e['loc'])])}: {e['msg']}"
            for e in exc.errors()[:3]
        )
        raise MalformedEventData(problems) from None


def text_or_none(value: str | None) -> str | None:
    """`value`, or None when it is None or blank."""
    return value if value is not None and value.strip() else None


@dataclass(frozen=True)
class Person:
    """Who a mail goes to (a `PersonRef` of docs/events.md, or the desk manager's address)."""

    email: str | None
    id: str | None = None
    name: str | None = None
    locale: str = DEFAULT_LOCALE
    timezone: str = DEFAULT_TIMEZONE
    manager_name: str | None = None


def person(value: Any) -> Person | None:
    """A `PersonRef` (typed, or an object read leniently): a person without an address simply
    gets no mail."""
    if isinstance(value, PersonRef):
        return Person(
            email=text_or_none(value.email),
            id=value.id,
            name=text_or_none(value.name),
            locale=resolve_locale(value.locale),
            timezone=value.timezone or DEFAULT_TIMEZONE,
            manager_name=value.manager_name,
        )
    if not isinstance(value, Mapping):
        return None
    return Person(
        email=optional_text(value, "email"),
        id=optional_text(value, "id"),
        name=optional_text(value, "name"),
        locale=resolve_locale(optional_text(value, "locale")),
        timezone=optional_text(value, "timezone") or DEFAULT_TIMEZONE,
        manager_name=optional_text(value, "manager_name"),
    )


def ticket_context(ticket: TicketSnapshot) -> dict[str, Any]:
    """The ticket fields every ticket mail may show (a fixed set: templates are strict)."""
    requester = person(ticket.requester)
    assignee = person(ticket.assignee)
    return {
        "id": ticket.id,
        "number": ticket.number,
        "type": ticket.type,
        "title": ticket.title,
        "priority": text_or_none(ticket.priority),
        "status": text_or_none(ticket.status),
        "waiting_reason": text_or_none(ticket.waiting_reason),
        "service": text_or_none(ticket.service),
        "group": text_or_none(ticket.group),
        "work_blocked": ticket.work_blocked,
        "created_at": ticket.created_at,
        "resolution": text_or_none(ticket.resolution),
        "requester_name": requester.name if requester else None,
        "requester_email": requester.email if requester else None,
        "assignee_name": assignee.name if assignee else None,
    }


def json_safe(value: Any) -> Any:
    """`value` with datetimes as RFC 3339 text, ids as text and enums as their values.

    Consumers may hand over pydantic dumps in Python mode; a planned mail stays storable.
    """
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, UUID):
        return str(value)
    return value
