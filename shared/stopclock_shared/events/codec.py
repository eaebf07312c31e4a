"""Encoding envelopes to Kafka messages and decoding them back, with typed payloads."""

from __future__ import annotations

import orjson
from pydantic import ValidationError

from .contract import CONTRACT
from .envelope import Envelope
from .payload import Payload
from .types import EventType

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


def payload(envelope: Envelope) -> Payload:
    """The typed payload of a contract type (`events.contract.CONTRACT`); consumers decode
    through `event_routes.Route.decode`, this is for tools and tests."""
    entry = CONTRACT.get(EventType(envelope.type)) if envelope.type in KNOWN_TYPES else None
    if entry is None:
        raise MalformedMessage(f"unknown event type {envelope.type}")
    model = entry.model
    try:
        return model.model_validate(envelope.data)
    except ValidationError as exc:
        raise MalformedMessage(f"bad data for {envelope.type}: {short_errors(exc)}") from exc


def short_errors(exc: ValidationError) -> str:
    """The first validation errors, one line (for a DLQ record)."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
