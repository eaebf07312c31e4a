import string
from datetime import UTC, datetime

import pytest

from stopclock_shared.pages import local_date, locale_from_header, locale_of
from stopclock_survey.words import WORDS


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_sentence_with_the_same_placeholders() -> None:
    english = WORDS["en"]
    for locale, words in WORDS.items():
        assert set(words) == set(english), locale
        for key, text in words.items():
            assert _placeholders(text) == _placeholders(english[key]), (locale, key)


@pytest.mark.parametrize(
    ("value", "locale"),
    [("fr", "fr"), ("fr-CA", "fr"), ("fr_BE", "fr"), ("en-GB", "en"), ("de", "en"), (None, "en")],
)
def test_the_requesters_locale_picks_the_closest_language_we_have(
    value: str | None, locale: str
) -> None:
    assert locale_of(value) == locale


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("de-DE,de;q=0.9,en;q=0.5", "en"),
        ("de-DE", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_without_a_survey_the_browser_language_is_used(header: str | None, locale: str) -> None:
    assert locale_from_header(header) == locale


def test_dates_read_in_the_requesters_language_and_time_zone() -> None:
    late_evening_utc = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    assert local_date(late_evening_utc, "en", "UTC") == "7 December 2026"
    assert local_date(late_evening_utc, "fr", "Europe/Paris") == "8 décembre 2026"
    assert local_date(late_evening_utc, "en", "Not/AZone") == "7 December 2026"
