"""Keyset (cursor) pagination over the total order ``(created_at, id)``."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from .problems import field_error

T = TypeVar("T")
K = TypeVar("K")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(created_at: datetime, ident: Any) -> str:
    raw = json.dumps([created_at.isoformat(), str(ident)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, key: Callable[[str], K] = str) -> tuple[datetime, K]:  # type: ignore[assignment]
    """Read a cursor back; ``key`` converts the id (e.g. ``uuid.UUID``, ``int``). Anything
    that is not a cursor we issued is a 422, never a 500."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, ident = json.loads(base64.urlsafe_b64decode(padded.encode()))
        at = datetime.fromisoformat(created)
        if at.tzinfo is None:
            raise ValueError("cursor time without offset")
        return at, key(str(ident))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise field_error("cursor", "Invalid cursor; use next_cursor from a previous page") from exc


def page_of(
    rows: Sequence[Any], limit: int, *, order: str = "created_at", key: str = "id"
) -> dict[str, Any]:
    """The list answer for rows fetched with ``limit + 1`` (the extra row says "more")."""
    items = list(rows[:limit])
    last = items[-1] if len(rows) > limit and items else None
    return {"items": items, "next_cursor": encode_cursor(last[order], last[key]) if last else None}


LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
CursorQuery = Annotated[str | None, Query()]
