"""The base of every event payload model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """An event's ``data``: frozen; additive changes keep the version, so unknown fields
    are accepted (a newer producer never breaks an older consumer)."""

    model_config = ConfigDict(frozen=True, extra="allow")
