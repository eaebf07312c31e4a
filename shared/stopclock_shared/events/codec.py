"""Encoding envelopes to Kafka messages and decoding them back, with typed payloads."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from . import models
from .envelope import Envelope
from .types import EventType

# Types with a typed payload; any other known type keeps its data as a plain dict.
PAYLOADS: dict[str, type[BaseModel]] = {
    EventType.TICKET_CREATED: models.TicketCreated,
    EventType.TICKET_UPDATED: models.TicketUpdated,
    EventType.TICKET_STATUS_CHANGED: models.TicketStatusChanged,
    EventType.TICKET_COMMENTED: models.TicketCommented,
    EventType.TICKET_PRIORITY_CHANGED: models.TicketPriorityChanged,
    EventType.COMMAND_RESOLVE: models.ResolveCommand,
    EventType.COMMAND_REOPEN: models.ReopenCommand,
    EventType.COMMAND_COMMENT: models.CommentCommand,
    EventType.COMMAND_OPEN: models.OpenTicketCommand,
    EventType.PERSON_UPDATED: models.PersonUpdated,
    EventType.OUTAGE_DECLARED: models.OutageEvent,
    EventType.OUTAGE_UPDATED: models.OutageEvent,
    EventType.OUTAGE_RESOLVED: models.OutageEvent,
}
KNOWN_TYPES = frozenset(t.value for t in EventType)
CONTENT_TYPE = b"application/cloudevents+json"


class MalformedMessage(ValueError):
    """The bytes are not a valid envelope, or the payload does not fit its type."""


def encode(envelope: Envelope) -> bytes:
    return orjson.dumps(envelope.model_dump(mode="json", exclude_none=True))


def decode(raw: bytes | None) -> Envelope:
    if not raw:
        raise MalformedMessage("empty message")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedMessage(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise MalformedMessage("envelope must be a JSON object")
    if obj.get("specversion") != "1.0":
        raise MalformedMessage("not a CloudEvents 1.0 envelope (specversion)")
    try:
        return Envelope.model_validate(obj)
    except ValidationError as exc:
        raise MalformedMessage(f"bad envelope: {short_errors(exc)}") from exc


def payload(envelope: Envelope) -> Any:
    """The typed payload of a known type (a dict for types without a model)."""
    model = PAYLOADS.get(envelope.type)
    if model is None:
        return envelope.data
    try:
        return model.model_validate(envelope.data)
    except ValidationError as exc:
        raise MalformedMessage(f"bad data for {envelope.type}: {short_errors(exc)}") from exc


def short_errors(exc: ValidationError) -> str:
    """The first validation errors, one line (for a DLQ record)."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
