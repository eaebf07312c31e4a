"""The base of every event payload model, and the rule its ``data`` is written by."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

E = TypeVar("E", bound=StrEnum)

# A contract word where the contract lets producers add values (docs/vocabulary.md): its
# member when this consumer knows the value, else the string as sent. An added value is an
# additive change (same event version), so an older consumer must not refuse the event.
Word = Annotated[E | str, Field(union_mode="left_to_right")]


def wire_values(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as JSON values, the way every producer writes an event's ``data``:
    datetimes as ``isoformat()`` (``+00:00``), as the services have always written them
    (pydantic's JSON mode would write ``Z``). ``Payload.wire()`` is this rule for a model; a
    hot path may apply it to the plain values of one, in the model's field order."""
    data: dict[str, Any] = orjson.loads(orjson.dumps(values))
    return data


class Payload(BaseModel):
    """An event's ``data``: frozen; additive changes keep the version, so unknown fields
    are accepted (a newer producer never breaks an older consumer)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    def wire(self) -> dict[str, Any]:
        """The ``data`` to publish: the fields the payload was given (a forwarded snapshot
        stays as it came), written by `wire_values`."""
        return wire_values(self.model_dump(exclude_unset=True))
