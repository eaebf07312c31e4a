"""Times shown on the recipient's wall clock, zone named."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_notification.domain.local_time import format_local_time

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@pytest.mark.parametrize(
    ("value", "tz", "locale", "expected"),
    [
        (
            "2024-05-14T07:30:00Z",
            "Europe/Paris",
            "en",
            "Tuesday 14 May 2024, 09:30 (Europe/Paris)",
        ),
        (
            "2024-05-14T07:30:00+00:00",
            "Europe/Paris",
            "fr",
            "mardi 14 mai 2024 à 09:30 (Europe/Paris)",
        ),
        ("2024-12-31T23:30:00-05:00", "UTC", "en", "Wednesday 1 January 2025, 04:30 (UTC)"),
        (
            "2024-03-31T00:59:00+00:00",
            "Europe/Paris",
            "en",
            "Sunday 31 March 2024, 01:59 (Europe/Paris)",
        ),
        (
            "2024-03-31T01:00:00+00:00",
            "Europe/Paris",
            "en",
            "Sunday 31 March 2024, 03:00 (Europe/Paris)",
        ),
        ("2024-05-14T07:30:00", "Mars/Olympus_Mons", "en", "Tuesday 14 May 2024, 07:30 (UTC)"),
    ],
    ids=["en", "fr", "offset to UTC across a year", "before DST", "after DST", "unknown zone"],
)
def test_a_time_is_written_in_the_recipients_zone_and_language(
    value: str, tz: str, locale: str, expected: str
) -> None:
    assert format_local_time(value, tz, locale) == expected


@settings(deadline=None)
@given(moment=instants, tz=st.sampled_from(ZONES), locale=st.sampled_from(["en", "fr", "de"]))
def test_the_shown_wall_clock_is_the_instant_in_that_zone(
    moment: datetime, tz: str, locale: str
) -> None:
    local = moment.astimezone(ZoneInfo(tz))

    shown = format_local_time(moment, tz, locale)

    assert f" {local.day} " in shown
    assert f"{local.year}" in shown
    assert shown.endswith(f"{local:%H:%M} ({tz})")


@settings(deadline=None)
@given(moment=instants, tz=st.sampled_from(ZONES), offset_minutes=st.integers(-720, 840))
def test_the_same_instant_reads_the_same_whatever_offset_it_was_written_with(
    moment: datetime, tz: str, offset_minutes: int
) -> None:
    written = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))

    assert format_local_time(written.isoformat(), tz, "en") == format_local_time(moment, tz, "en")
