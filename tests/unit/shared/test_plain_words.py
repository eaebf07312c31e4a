"""Policies in plain words: durations, calendars, coverage and waits, in English and French."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stopclock_shared import plain_words as pw

OFFICE: dict[str, Any] = {
    "timezone": "Europe/Paris",
    "week": {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": {"country": "FR"},
}
OFFICE_HOURS = pw.Hours(always=False, day_seconds=36_000)
UNEVEN_HOURS = pw.Hours(always=False, day_seconds=None)
ALWAYS = pw.Hours(always=True)


@pytest.mark.parametrize(
    ("seconds", "hours", "locale", "words"),
    [
        (4 * 3600, OFFICE_HOURS, "en", "4 working hours"),
        (4 * 3600, OFFICE_HOURS, "fr", "4 heures ouvrées"),
        (3600, OFFICE_HOURS, "en", "1 working hour"),
        (3600, OFFICE_HOURS, "fr", "1 heure ouvrée"),
        (36_000, OFFICE_HOURS, "en", "1 working day"),
        (3 * 36_000, OFFICE_HOURS, "fr", "3 jours ouvrés"),
        (36_000 + 2 * 3600 + 1800, OFFICE_HOURS, "en", "1 working day, 2 hours and 30 minutes"),
        (40 * 3600, UNEVEN_HOURS, "en", "40 working hours"),
        (1800, OFFICE_HOURS, "en", "30 working minutes"),
        (86_400, ALWAYS, "en", "1 day"),
        (86_400, ALWAYS, "fr", "1 jour"),
        (3 * 86_400, ALWAYS, "en", "3 days"),
        (90_000, ALWAYS, "en", "1 day and 1 hour"),
        (900, ALWAYS, "en", "15 minutes"),
        (900, ALWAYS, "fr", "15 minutes"),
        (60, ALWAYS, "en", "1 minute"),
        (61, ALWAYS, "fr", "1 minute et 1 seconde"),
        (0.001, ALWAYS, "en", "1 second"),
        (4 * 3600, ALWAYS, "de", "4 hours"),  # unknown language: English
    ],
)
def test_a_duration_reads_in_the_calendar_s_units(
    seconds: float, hours: pw.Hours, locale: str, words: str
) -> None:
    assert pw.duration_words(seconds, locale, hours) == words


@given(st.floats(min_value=0, max_value=10 * 366 * 86_400), st.sampled_from(["en", "fr"]))
def test_a_duration_never_reads_as_zero_or_empty(seconds: float, locale: str) -> None:
    words = pw.duration_words(seconds, locale, OFFICE_HOURS)
    assert words
    assert not words.startswith("0 ")


@pytest.mark.parametrize(
    ("spec", "hours"),
    [
        (OFFICE, OFFICE_HOURS),
        (pw.AROUND_THE_CLOCK, ALWAYS),
        ({"week": {"mon": [["08:00", "18:00"]], "fri": [["08:00", "12:00"]]}}, UNEVEN_HOURS),
        ({"week": {"mon": [["09:00", "12:00"], ["13:00", "18:00"]]}}, pw.Hours(False, 28_800)),
    ],
)
def test_the_shape_of_a_calendar(spec: dict[str, Any], hours: pw.Hours) -> None:
    assert pw.hours_of(spec) == hours


@pytest.mark.parametrize(
    ("week", "locale", "words"),
    [
        (OFFICE["week"], "en", "Monday\u2013Friday 08:00\u201318:00"),
        (OFFICE["week"], "fr", "du lundi au vendredi de 08:00 à 18:00"),
        (
            {"mon": [["09:00", "17:00"]], "wed": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]]},
            "en",
            "Monday, Wednesday and Friday 09:00\u201317:00",
        ),
        (
            {
                "mon": [["08:00", "18:00"]],
                "tue": [["08:00", "18:00"]],
                "wed": [["08:00", "18:00"]],
                "thu": [["08:00", "18:00"]],
                "fri": [["08:00", "16:00"]],
            },
            "en",
            "Monday\u2013Thursday 08:00\u201318:00; Friday 08:00\u201316:00",
        ),
        (
            {"sat": [["00:00", "24:00"]], "sun": [["00:00", "24:00"]]},
            "fr",
            "samedi et dimanche toute la journée",
        ),
        (
            {"mon": [["09:00", "12:00"], ["13:00", "18:00"]]},
            "fr",
            "lundi de 09:00 à 12:00 et de 13:00 à 18:00",
        ),
        ({}, "en", "no working hours set"),
        ({"mon": [["18:00", "08:00"]], "tue": "nonsense"}, "en", "no working hours set"),
    ],
)
def test_a_week_reads_with_spans_and_groups(week: dict[str, Any], locale: str, words: str) -> None:
    assert pw.week_words({"week": week}, locale) == words


@pytest.mark.parametrize(
    ("spec", "locale", "words"),
    [
        (
            OFFICE,
            "en",
            "Monday\u2013Friday 08:00\u201318:00 Paris time, public holidays in France excepted",
        ),
        (
            OFFICE,
            "fr",
            "du lundi au vendredi de 08:00 à 18:00, heure de Paris, hors jours fériés en France",
        ),
        (None, "en", "around the clock"),
        (pw.AROUND_THE_CLOCK, "fr", "24 heures sur 24, 7 jours sur 7"),
        (
            {**pw.AROUND_THE_CLOCK, "holidays": {"country": "BE"}},
            "en",
            "around the clock, public holidays in Belgium excepted",
        ),
        (
            {**OFFICE, "timezone": "UTC", "holidays": {"country": "XX"}},
            "en",
            "Monday\u2013Friday 08:00\u201318:00 UTC, public holidays (XX) excepted",
        ),
    ],
)
def test_a_calendar_reads_with_its_zone_and_holidays(
    spec: dict[str, Any] | None, locale: str, words: str
) -> None:
    assert pw.calendar_words(spec, locale) == words


def test_holiday_dates_before_today_are_left_out_and_many_are_counted() -> None:
    dates = ["2026-12-24", "2025-01-01", "not-a-date"] + [f"2027-01-{d:02d}" for d in range(2, 9)]
    said = pw.holiday_words({"dates": dates}, "en", today=date(2026, 12, 1))
    assert said == [
        "also closed on 24 December 2026, 2 January 2027, 3 January 2027, 4 January 2027, "
        "5 January 2027, 6 January 2027 and 2 more days"
    ]
    [french] = pw.holiday_words({"dates": ["2026-12-24", "2026-12-31"]}, "fr")
    assert french == "fermé aussi le 24 décembre 2026 et le 31 décembre 2026"


@pytest.mark.parametrize(
    ("zone", "locale", "words"),
    [
        ("Europe/Paris", "en", "Paris time"),
        ("Europe/Paris", "fr", "heure de Paris"),
        ("Europe/Amsterdam", "fr", "heure d'Amsterdam"),
        ("America/Argentina/Buenos_Aires", "en", "Buenos Aires time"),
        ("Etc/UTC", "en", "UTC"),
    ],
)
def test_a_time_zone_reads_as_a_city(zone: str, locale: str, words: str) -> None:
    assert pw.zone_words(zone, locale) == words


@pytest.mark.parametrize(
    ("match", "locale", "words"),
    [
        (("incident", "P1", None), "en", "P1 incidents"),
        (("incident", "P1", None), "fr", "les incidents P1"),
        (("service_request", None, "vpn"), "en", "all service requests for the service “vpn”"),
        (
            ("service_request", None, "vpn"),
            "fr",
            "toutes les demandes de service pour le service « vpn »",
        ),
        ((None, None, None), "en", "all tickets"),
        ((None, None, None), "fr", "tous les tickets"),
        ((None, "P3", "<b>"), "en", "P3 tickets for the service “<b>”"),  # escaped by templates
    ],
)
def test_what_a_policy_covers(
    match: tuple[str | None, str | None, str | None], locale: str, words: str
) -> None:
    assert pw.covers_words(*match, locale) == words


@pytest.mark.parametrize(
    ("statuses", "reasons", "keys"),
    [
        (["waiting_on_user"], None, ["info_requested", "user_validation", "user_response"]),
        (["waiting_on_user"], ["user_response"], ["user_response"]),
        (["waiting_on_user"], [], []),
        (["waiting_on_user", "assigned"], ["info_requested"], ["info_requested", "assigned"]),
        (["new"], ["info_requested"], ["new"]),  # the reasons narrow waiting only
        ([], None, []),
    ],
)
def test_which_waits_stop_a_target(
    statuses: list[str], reasons: list[str] | None, keys: list[str]
) -> None:
    assert pw.stopping_waits(statuses, reasons) == keys


def test_a_wait_reads_for_the_requester_and_an_odd_status_is_named() -> None:
    assert pw.stop_words("info_requested", "en") == "we have asked you for information"
    assert pw.stop_words("user_response", "fr") == "nous attendons votre réponse"
    assert pw.stop_words("on_hold", "en") == "your ticket is in the status “on_hold”"


@pytest.mark.parametrize(
    ("fraction", "locale", "words"),
    [(0.5, "en", "50%"), (0.75, "fr", "75 %"), (1 / 3, "en", "33.3%"), (1 / 3, "fr", "33,3 %")],
)
def test_a_warning_point_reads_as_a_percentage(fraction: float, locale: str, words: str) -> None:
    assert pw.percent_words(fraction, locale) == words


@pytest.mark.parametrize(
    ("items", "locale", "words"),
    [
        ([], "en", ""),
        (["a"], "en", "a"),
        (["a", "b"], "fr", "a et b"),
        (["a", "b", "c"], "en", "a, b and c"),
    ],
)
def test_a_list_reads_with_and(items: list[str], locale: str, words: str) -> None:
    assert pw.list_words(items, locale) == words
