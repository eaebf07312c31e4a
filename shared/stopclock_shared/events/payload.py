"""The base of every event payload model."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """An event's ``data``: frozen; additive changes keep the version, so unknown fields
    are accepted (a newer producer never breaks an older consumer)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    def wire(self) -> dict[str, Any]:
        """The ``data`` to publish: the fields the payload was given (a forwarded snapshot
        stays as it came) with datetimes as ``isoformat()`` (``+00:00``), as the services have
        always written them; pydantic's JSON mode would write ``Z``."""
        data: dict[str, Any] = orjson.loads(orjson.dumps(self.model_dump(exclude_unset=True)))
        return data
