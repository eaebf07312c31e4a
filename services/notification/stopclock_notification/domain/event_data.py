"""Reading the typed payloads of events (docs/events.md) into the few values mails need."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from stopclock_notification.domain.locales import (
    DEFAULT_LOCALE,
    DEFAULT_TIMEZONE,
    resolve_locale,
)
from stopclock_shared.events.people import PersonRef
from stopclock_shared.events.tickets import TicketSnapshot


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


def person(value: PersonRef | None) -> Person | None:
    """Who a `PersonRef` is for a mail; a person without an address simply gets no mail."""
    if value is None:
        return None
    return Person(
        email=text_or_none(value.email),
        id=value.id,
        name=text_or_none(value.name),
        locale=resolve_locale(value.locale),
        timezone=value.timezone or DEFAULT_TIMEZONE,
        manager_name=value.manager_name,
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
