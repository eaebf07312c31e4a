import pytest

from stopclock_escalation.domain.resolution_text import auto_resolve_text


def test_the_text_says_why_and_how_to_reopen() -> None:
    text = auto_resolve_text(3, "en")
    assert "did not hear back from you after 3 reminders" in text
    assert "comment" in text
    assert "reopened" in text


def test_a_single_reminder_is_not_plural() -> None:
    assert "after 1 reminder." in auto_resolve_text(1)


@pytest.mark.parametrize("locale", ["fr", "fr-CA", "fr_BE", "FR"])
def test_french_speakers_read_it_in_french(locale: str) -> None:
    text = auto_resolve_text(2, locale)
    assert "après 2 relances" in text
    assert "rouvert" in text


@pytest.mark.parametrize("locale", [None, "", "xx", "de-AT"])
def test_unknown_locales_fall_back_to_english(locale: str | None) -> None:
    assert auto_resolve_text(2, locale) == auto_resolve_text(2, "en")
