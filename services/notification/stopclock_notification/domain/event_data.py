"""Reading the `data` of events (docs/events.md) into the few values mails need.

The events arrive as decoded JSON; these readers fail with `MalformedEventData` naming the
missing field, so the consumer can send the message to the DLQ with a clear error.
"""

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


class MalformedEventData(ValueError):
    """The event lacks a field that the mails it causes need."""


def require(data: Mapping[str, Any], key: str, where: str) -> Any:
    """`data[key]`, which must be present and not null."""
    value = data.get(key)
    if value is None:
        raise MalformedEventData(f"{where}.{key} is missing")
    return value


def require_mapping(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    """`data[key]`, which must be an object."""
    value = require(data, key, where)
    if not isinstance(value, Mapping):
        raise MalformedEventData(f"{where}.{key} must be an object")
    return value


def optional_text(data: Mapping[str, Any], key: str) -> str | None:
    """`data[key]` as text, or None when absent, null or blank."""
    value = data.get(key)
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


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
    """A `PersonRef` object read leniently: a person without an address simply gets no mail."""
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


def ticket_context(ticket: Mapping[str, Any]) -> dict[str, Any]:
    """The ticket fields every ticket mail may show (a fixed set: templates are strict)."""
    requester = person(ticket.get("requester"))
    assignee = person(ticket.get("assignee"))
    return {
        "id": str(require(ticket, "id", "ticket")),
        "number": str(require(ticket, "number", "ticket")),
        "type": optional_text(ticket, "type") or "incident",
        "title": str(require(ticket, "title", "ticket")),
        "priority": optional_text(ticket, "priority"),
        "status": optional_text(ticket, "status"),
        "waiting_reason": optional_text(ticket, "waiting_reason"),
        "service": optional_text(ticket, "service"),
        "group": optional_text(ticket, "group"),
        "work_blocked": bool(ticket.get("work_blocked")),
        "created_at": ticket.get("created_at"),
        "resolution": optional_text(ticket, "resolution"),
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
