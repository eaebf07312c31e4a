"""Keyset (cursor) pagination over the total order ``(created_at, id)``."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, NamedTuple, TypeVar

from fastapi import Depends, Query
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
        value = key(str(ident))
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise ValueError("cursor id out of range")
        return at, value
    except (ValueError, TypeError, binascii.Error, OverflowError) as exc:
        raise field_error("cursor", "Invalid cursor; use next_cursor from a previous page") from exc


def page_of(
    rows: Sequence[Any], limit: int, *, order: str = "created_at", key: str = "id"
) -> dict[str, Any]:
    """The list answer for rows fetched with ``limit + 1`` (the extra row says "more")."""
    items = list(rows[:limit])
    last = items[-1] if len(rows) > limit and items else None
    return {"items": items, "next_cursor": encode_cursor(last[order], last[key]) if last else None}


def page_of_list(items: Sequence[T], limit: int, cursor: str | None) -> dict[str, Any]:
    """A page of a short list computed whole and in a stable order (e.g. policies in the
    order they are tried); the cursor, in the same format as the others, holds the offset."""
    start = decode_cursor(cursor, int)[1] if cursor else 0
    if start < 0:
        raise field_error("cursor", "Invalid cursor; use next_cursor from a previous page")
    end = start + limit
    more = end < len(items)
    return {
        "items": list(items[start:end]),
        "next_cursor": encode_cursor(_EPOCH, end) if more else None,
    }


def encode_key_cursor(key: str) -> str:
    """A cursor for a list ordered by a unique text key alone (e.g. names), same format."""
    return encode_cursor(_EPOCH, key)


def decode_key_cursor(cursor: str) -> str:
    return decode_cursor(cursor, str)[1]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
# Cursors we issue are unpadded base64url; anything else is refused before it is decoded.
CursorQuery = Annotated[str | None, Query(max_length=1000, pattern=r"^[A-Za-z0-9_-]*$")]


class Paging(NamedTuple):
    """Which page of a list a request asks for: its size, and the cursor after which it
    starts (None: the first page)."""

    limit: int
    cursor: str | None

    def after(self, key: Callable[[str], K]) -> tuple[datetime, K] | None:
        """The (time, id) position the cursor names, ids read by ``key`` (None: the first
        page). A cursor that is not one of ours is a 422 naming ``cursor``."""
        return decode_cursor(self.cursor, key) if self.cursor else None

    def after_name(self) -> str | None:
        """The name a key cursor names (lists ordered by name; None: the first page)."""
        return decode_key_cursor(self.cursor) if self.cursor else None


def _paging(limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None) -> Paging:
    return Paging(limit, cursor)


# The `limit` and `cursor` query parameters of every list route, as one parameter.
PagingQuery = Annotated[Paging, Depends(_paging)]
