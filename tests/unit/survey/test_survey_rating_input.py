"""What a survey form or link gives as a rating: ASCII digits only, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stopclock_survey.survey_page import rating_of


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("1", 1),
        ("5", 5),
        ("05", 5),
        ("9", 9),
        ("", None),
        ("²", None),
        ("٤", None),
        ("1" * 5000, None),
        ("-1", None),
        ("3.0", None),
        (" 3", None),
        ("3\x00", None),
    ],
)
def test_only_plain_digits_are_a_rating(text: str, rating: int | None) -> None:
    assert rating_of(text) == rating


@given(st.text())
def test_no_text_breaks_the_rating(text: str) -> None:
    result = rating_of(text)
    assert result is None or 0 <= result <= 999
