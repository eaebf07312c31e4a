"""Cursors: ours decode back; anything else, however forged, is a 422 problem."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from stopclock_shared.pagination import (
    Paging,
    decode_cursor,
    encode_cursor,
    encode_key_cursor,
    page_of_list,
)
from stopclock_shared.problems import ProblemError

AT = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def forged(created: object, ident: object) -> str:
    return base64.urlsafe_b64encode(json.dumps([created, ident]).encode()).decode().rstrip("=")


def test_a_cursor_we_issued_reads_back() -> None:
    assert decode_cursor(encode_cursor(AT, 42), int) == (AT, 42)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "%%%",
        "bm90LWEtY3Vyc29y",  # base64 of plain text
        forged("2026-12-03T12:00:00", 1),  # no offset
        forged("not a time", 1),
        forged(AT.isoformat(), "x"),  # int key expected
        forged(AT.isoformat(), str(2**63)),  # beyond bigint
        forged(AT.isoformat(), "9" * 5000),
        forged(["a"], 1),
    ],
)
def test_anything_else_is_a_422(cursor: str) -> None:
    with pytest.raises(ProblemError) as caught:
        decode_cursor(cursor, int)
    assert caught.value.status == 422


def test_a_list_pages_through_in_order() -> None:
    items = list(range(7))
    seen, cursor = [], None
    while True:
        page = page_of_list(items, 3, cursor)
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == items


def test_a_paging_request_reads_its_position_from_its_cursor() -> None:
    assert Paging(50, None).after(int) is None
    assert Paging(50, encode_cursor(AT, 42)).after(int) == (AT, 42)
    assert Paging(50, None).after_name() is None
    assert Paging(2, encode_key_cursor("gold")).after_name() == "gold"
    with pytest.raises(ProblemError) as caught:
        Paging(50, "bm90LWEtY3Vyc29y").after(int)
    assert caught.value.status == 422
