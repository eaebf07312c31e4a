"""Business time: exact across DST, weekends and holidays, and fast enough for 100k clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from stopclock_shared.business_time import (
    Calendar,
    CalendarError,
    add_business_seconds,
    add_business_us,
    business_seconds_between,
    business_us_between,
    calendar_from_spec,
    calendar_to_spec,
    format_day_time,
    parse_day_time,
    to_us,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600.0
EVERY_DAY = range(7)
WEEKDAYS = range(5)


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def daily(tz: str, *windows: tuple[str, str], days: range = EVERY_DAY) -> Calendar:
    return Calendar.weekly("test", tz, {d: list(windows) for d in days})


def whole_local_day(zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, time(), tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time(), tzinfo=zone),
    )


# --- the DST days of 2026 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "window", "hours"),
    [
        ("America/New_York", date(2026, 3, 8), ("08:00", "18:00"), 10),
        ("Europe/Paris", date(2026, 3, 29), ("08:00", "18:00"), 10),
        ("Europe/Paris", date(2026, 10, 25), ("08:00", "18:00"), 10),
        ("America/New_York", date(2026, 11, 1), ("08:00", "18:00"), 10),
        ("America/New_York", date(2026, 3, 8), ("00:00", "24:00"), 23),
        ("Europe/Paris", date(2026, 3, 29), ("00:00", "24:00"), 23),
        ("Europe/Paris", date(2026, 10, 25), ("00:00", "24:00"), 25),
        ("America/New_York", date(2026, 11, 1), ("00:00", "24:00"), 25),
        # windows crossing the skipped hour lose it; those crossing the repeated hour gain it
        ("Europe/Paris", date(2026, 3, 29), ("01:00", "04:00"), 2),
        ("America/New_York", date(2026, 3, 8), ("01:00", "04:00"), 2),
        ("Europe/Paris", date(2026, 10, 25), ("01:00", "04:00"), 4),
        ("America/New_York", date(2026, 11, 1), ("00:00", "03:00"), 4),
    ],
)
def test_a_dst_day_counts_the_real_time_inside_its_windows(
    tz: str, day: date, window: tuple[str, str], hours: int
) -> None:
    cal = daily(tz, window)
    start, end = whole_local_day(ZoneInfo(tz), day)
    assert business_seconds_between(cal, start, end) == hours * HOUR


@pytest.mark.parametrize(
    ("tz", "start", "expected"),
    [
        # Saturday 17:00 + 2 h on an 08:00-18:00 desk open every day: Sunday 09:00 local
        ("Europe/Paris", (2026, 3, 28, 17), (2026, 3, 29, 9)),
        ("Europe/Paris", (2026, 10, 24, 17), (2026, 10, 25, 9)),
        ("America/New_York", (2026, 3, 7, 17), (2026, 3, 8, 9)),
        ("America/New_York", (2026, 10, 31, 17), (2026, 11, 1, 9)),
    ],
)
def test_adding_across_a_dst_night_lands_on_the_same_wall_time(
    tz: str, start: tuple[int, ...], expected: tuple[int, ...]
) -> None:
    zone = ZoneInfo(tz)
    cal = daily(tz, ("08:00", "18:00"))
    result = add_business_seconds(cal, local(zone, *start), 2 * HOUR)
    assert result == local(zone, *expected)


def test_a_window_starting_in_the_skipped_hour_starts_at_the_jump() -> None:
    cal = daily("Europe/Paris", ("02:30", "03:15"))
    start, end = whole_local_day(PARIS, date(2026, 3, 29))
    assert business_seconds_between(cal, start, end) == 15 * 60
    assert add_business_seconds(cal, start, 60) == local(PARIS, 2026, 3, 29, 3, 1)


def test_friday_evening_plus_two_hours_is_monday_morning_across_the_dst_weekend() -> None:
    cal = daily("Europe/Paris", ("09:00", "17:00"), days=WEEKDAYS)
    friday = local(PARIS, 2026, 3, 27, 16)  # CET
    assert add_business_seconds(cal, friday, 2 * HOUR) == local(PARIS, 2026, 3, 30, 10)  # CEST
    assert business_seconds_between(cal, friday, local(PARIS, 2026, 3, 30, 10)) == 2 * HOUR


def test_a_country_holiday_in_the_middle_is_skipped() -> None:
    spec = {
        "timezone": "Europe/Paris",
        "week": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": {"country": "FR"},
    }
    cal = calendar_from_spec("fr", spec, years=[2026])
    thursday = local(PARIS, 2026, 4, 30, 17)  # Friday 1 May is Labour Day
    assert add_business_seconds(cal, thursday, 2 * HOUR) == local(PARIS, 2026, 5, 4, 10)


def test_listed_holiday_dates_are_skipped() -> None:
    spec = {
        "timezone": "America/New_York",
        "week": {d: [["08:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed")},
        "holidays": {"dates": ["2026-06-02"]},
    }
    cal = calendar_from_spec("ny", spec)
    monday = local(NEW_YORK, 2026, 6, 1, 16)
    assert add_business_seconds(cal, monday, 2 * HOUR) == local(NEW_YORK, 2026, 6, 3, 9)


def test_time_outside_working_hours_counts_from_the_next_window() -> None:
    cal = daily("UTC", ("08:00", "12:00"), ("13:00", "17:00"))
    lunch = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
    assert add_business_seconds(cal, lunch, 30 * 60) == datetime(2026, 6, 1, 13, 30, tzinfo=UTC)
    assert add_business_seconds(cal, lunch, 4 * HOUR) == datetime(2026, 6, 1, 17, tzinfo=UTC)


def test_adding_zero_keeps_the_start_even_outside_working_hours() -> None:
    cal = daily("UTC", ("08:00", "17:00"))
    night = datetime(2026, 6, 1, 23, tzinfo=UTC)
    assert add_business_seconds(cal, night, 0) == night


def test_results_are_aware_utc() -> None:
    cal = daily("Europe/Paris", ("08:00", "18:00"))
    result = add_business_seconds(cal, local(PARIS, 2026, 6, 1, 9), HOUR)
    assert result.utcoffset() == timedelta(0)
    assert result.tzinfo is UTC


def test_a_measure_backwards_is_the_negated_measure() -> None:
    cal = daily("Europe/Paris", ("08:00", "18:00"), days=WEEKDAYS)
    a, b = local(PARIS, 2026, 3, 27, 12), local(PARIS, 2026, 3, 30, 12)
    assert business_seconds_between(cal, b, a) == -business_seconds_between(cal, a, b) == -10 * HOUR


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        add_business_seconds(Calendar.always(), datetime(2026, 1, 1), 1)


def test_the_24x7_calendar_is_wall_clock_arithmetic() -> None:
    cal = Calendar.always()
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert cal.is_always
    assert cal.name == "24x7"
    assert add_business_seconds(cal, start, 86_400.5) == start + timedelta(days=1, seconds=0.5)


def test_hundred_thousand_three_day_deadlines_take_well_under_ten_seconds() -> None:
    # A guard against accidental slowness, not a benchmark: the service holds 100k clocks.
    import time as wall

    cal = daily("Europe/Paris", ("08:00", "12:00"), ("13:00", "18:00"), days=WEEKDAYS)
    start = to_us(local(PARIS, 2026, 3, 20, 9))
    began = wall.perf_counter()
    for i in range(100_000):
        add_business_us(cal, start + i * 60_000_000, 27 * 3600 * 1_000_000)
    assert wall.perf_counter() - began < 10


# --- building calendars --------------------------------------------------------------


def test_a_calendar_built_from_the_api_spec_shows_the_same_spec() -> None:
    spec: dict[str, Any] = {
        "timezone": "Europe/Paris",
        "week": {"mon": [["13:00", "18:00"], ["08:00", "12:00"]], "sat": [["10:00", "24:00"]]},
    }
    cal = calendar_from_spec("paris", spec)
    assert cal.week[0] == ((8 * 3600, 12 * 3600), (13 * 3600, 18 * 3600))
    assert calendar_to_spec(cal) == {
        "timezone": "Europe/Paris",
        "week": {"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "sat": [["10:00", "24:00"]]},
    }


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"timezone": "Mars/Olympus", "week": {"mon": [["08:00", "18:00"]]}}, "timezone"),
        ({"week": {"mon": [["08:00", "18:00"]]}}, "timezone"),
        ({"timezone": "UTC", "week": {"monday": [["08:00", "18:00"]]}}, "week.monday"),
        ({"timezone": "UTC", "week": {"mon": [["8h", "18:00"]]}}, "week.mon[0]"),
        ({"timezone": "UTC", "week": {"mon": [["08:00", "24:30"]]}}, "week.mon[0]"),
        ({"timezone": "UTC", "week": {"mon": [["18:00", "08:00"]]}}, "week.mon[0]"),
        ({"timezone": "UTC", "week": {"mon": [["08:00"]]}}, "week.mon[0]"),
        (
            {"timezone": "UTC", "week": {"mon": [["08:00", "12:00"], ["11:00", "13:00"]]}},
            "week.mon",
        ),
        ({"timezone": "UTC", "week": {}}, "week"),
        ({"timezone": "UTC", "week": {"mon": []}}, "week"),
        (
            {
                "timezone": "UTC",
                "week": {"mon": [["08:00", "18:00"]]},
                "holidays": {"country": "XX"},
            },
            "holidays.country",
        ),
        (
            {
                "timezone": "UTC",
                "week": {"mon": [["08:00", "18:00"]]},
                "holidays": {"country": "FR", "subdiv": "ZZ"},
            },
            "holidays.subdiv",
        ),
        (
            {
                "timezone": "UTC",
                "week": {"mon": [["08:00", "18:00"]]},
                "holidays": {"dates": ["x"]},
            },
            "holidays.dates[0]",
        ),
    ],
)
def test_a_bad_calendar_spec_names_the_field(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(CalendarError) as caught:
        calendar_from_spec("bad", spec, years=[2026])
    assert caught.value.field == field


def test_a_calendar_without_working_time_is_refused() -> None:
    with pytest.raises(CalendarError, match="working time"):
        Calendar("empty", "UTC", ((),) * 7)


@pytest.mark.parametrize(
    ("text", "seconds"), [("00:00", 0), ("08:30", 30_600), ("23:59", 86_340), ("24:00", 86_400)]
)
def test_day_times_parse_and_format_back(text: str, seconds: int) -> None:
    assert parse_day_time(text) == seconds
    assert format_day_time(seconds) == text


# --- properties ----------------------------------------------------------------------

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
# Around the 2026 transitions of the zones above, plus ordinary days.
ANCHORS = [
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 4, 5, tzinfo=UTC),
    datetime(2026, 10, 4, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2026, 6, 15, tzinfo=UTC),
]
HALF_HOURS = st.integers(min_value=0, max_value=48)


@st.composite
def day_hours(draw: st.DrawFn) -> list[tuple[str, str]]:
    cuts = sorted(set(draw(st.lists(HALF_HOURS, max_size=4))))
    pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
    return [(format_day_time(a * 1800), format_day_time(b * 1800)) for a, b in pairs]


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    week = {d: draw(day_hours()) for d in range(7)}
    assume(any(week.values()))
    first = date(2026, 1, 1)
    holidays = draw(
        st.frozensets(st.integers(0, 400).map(lambda n: first + timedelta(days=n)), max_size=40)
    )
    return Calendar.weekly("random", draw(st.sampled_from(ZONES)), week, holidays)


instants = st.builds(
    lambda anchor, offset: anchor + timedelta(microseconds=offset),
    st.sampled_from(ANCHORS),
    st.integers(-3 * 86_400 * 10**6, 3 * 86_400 * 10**6),
)
durations = st.integers(0, 20 * 86_400 * 10**6).map(lambda us: us / 1e6)
FAST = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(calendars(), instants, durations)
def test_adding_then_measuring_gives_back_the_duration(
    cal: Calendar, start: datetime, seconds: float
) -> None:
    end = add_business_seconds(cal, start, seconds)
    assert business_seconds_between(cal, start, end) == pytest.approx(seconds, abs=1e-6)


@FAST
@given(calendars(), instants, st.integers(1, 20 * 86_400 * 10**6))
def test_an_addition_lands_on_the_first_instant_with_enough_time(
    cal: Calendar, start: datetime, amount: int
) -> None:
    start_us = to_us(start)
    end_us = add_business_us(cal, start_us, amount)
    assert business_us_between(cal, start_us, end_us) == amount
    assert business_us_between(cal, start_us, end_us - 1) < amount


@FAST
@given(calendars(), instants, st.integers(1, 20 * 86_400 * 10**6))
def test_subtracting_walks_back_by_the_same_business_time(
    cal: Calendar, end: datetime, amount: int
) -> None:
    end_us = to_us(end)
    start_us = add_business_us(cal, end_us, -amount)
    assert business_us_between(cal, start_us, end_us) == amount


@FAST
@given(calendars(), instants, instants, instants)
def test_measures_add_up_over_any_split_point(
    cal: Calendar, a: datetime, b: datetime, c: datetime
) -> None:
    whole = business_us_between(cal, to_us(a), to_us(c))
    parts = business_us_between(cal, to_us(a), to_us(b)) + business_us_between(
        cal, to_us(b), to_us(c)
    )
    assert whole == parts


@FAST
@given(instants, durations)
def test_24x7_is_wall_clock_arithmetic(start: datetime, seconds: float) -> None:
    cal = Calendar.always()
    end = add_business_seconds(cal, start, seconds)
    assert end == start + timedelta(microseconds=round(seconds * 1e6))
    assert business_seconds_between(cal, start, end) == pytest.approx(seconds, abs=1e-6)


@FAST
@given(st.sampled_from(ZONES), instants, instants)
def test_whole_days_in_any_zone_count_real_elapsed_time(
    tz: str, start: datetime, end: datetime
) -> None:
    # Two half days, so the wall-clock fast path of a full-day calendar is not taken.
    cal = daily(tz, ("00:00", "12:00"), ("12:00", "24:00"))
    assert not cal.is_always
    assert business_us_between(cal, to_us(start), to_us(end)) == to_us(end) - to_us(start)


@FAST
@given(calendars(), instants, durations, st.sampled_from(ZONES), st.integers(-14 * 60, 14 * 60))
def test_results_do_not_depend_on_how_the_input_offset_is_written(
    cal: Calendar, start: datetime, seconds: float, tz: str, minutes: int
) -> None:
    in_zone = start.astimezone(ZoneInfo(tz))
    fixed = start.astimezone(timezone(timedelta(minutes=minutes)))
    expected = add_business_seconds(cal, start, seconds)
    assert add_business_seconds(cal, in_zone, seconds) == expected
    assert add_business_seconds(cal, fixed, seconds) == expected
    later = start + timedelta(days=2)
    assert business_seconds_between(cal, fixed, later) == business_seconds_between(
        cal, start, later.astimezone(ZoneInfo(tz))
    )


@FAST
@given(calendars(), instants, durations)
def test_holidays_only_ever_push_a_deadline_later(
    cal: Calendar, start: datetime, seconds: float
) -> None:
    without = Calendar(cal.name, cal.timezone, cal.week)
    assert add_business_seconds(cal, start, seconds) >= add_business_seconds(
        without, start, seconds
    )


# --- long walks jump whole weeks ------------------------------------------------------


def day_by_day_between(cal: Calendar, start_us: int, end_us: int) -> int:
    """The reference: every local day visited, no week skipped."""
    total = 0
    day = cal.local_date(start_us) - timedelta(days=1)
    while day <= cal.local_date(end_us) + timedelta(days=1):
        for a, b in cal.windows_on(day):
            total += max(0, min(b, end_us) - max(a, start_us))
        day += timedelta(days=1)
    return total


long_spans = st.integers(0, 3 * 366 * 86_400 * 10**6)


@FAST
@given(calendars(), instants, long_spans)
def test_jumping_weeks_measures_what_visiting_every_day_measures(
    cal: Calendar, start: datetime, span: int
) -> None:
    start_us = to_us(start)
    assert business_us_between(cal, start_us, start_us + span) == day_by_day_between(
        cal, start_us, start_us + span
    )


@FAST
@given(calendars(), instants, long_spans)
def test_a_long_addition_lands_where_the_day_walk_says(
    cal: Calendar, start: datetime, span: int
) -> None:
    start_us = to_us(start)
    amount = max(1, day_by_day_between(cal, start_us, start_us + span))
    end_us = add_business_us(cal, start_us, amount)
    assert day_by_day_between(cal, start_us, end_us) == amount
    assert day_by_day_between(cal, start_us, end_us - 1) < amount
    back_us = add_business_us(cal, end_us, -amount)  # the last instant with enough time
    assert back_us >= start_us
    assert day_by_day_between(cal, back_us, end_us) == amount
    assert day_by_day_between(cal, back_us + 1, end_us) < amount


TEN_YEARS_US = 10 * 366 * 86_400 * 10**6


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), instants)
def test_ten_years_of_business_time_never_block_the_loop(cal: Calendar, start: datetime) -> None:
    """The longest duration a policy takes (ten years), on any calendar with at least a few
    hours a week, is computed in milliseconds: plain weeks are jumped, not walked."""
    import time as wall

    assume(cal.week_us >= 4 * 3600 * 10**6)
    amount = min(TEN_YEARS_US, cal.week_us * 520)  # at most ten calendar years of weeks
    start_us = to_us(start)
    began = wall.perf_counter()
    end_us = add_business_us(cal, start_us, amount)
    measured = business_us_between(cal, start_us, end_us)
    elapsed = wall.perf_counter() - began
    assert measured == amount
    # Holidays and DST weeks are still walked day by day; 520 weeks with a few dozen of
    # them stay far below this bound (a day-by-day walk of ten years takes ~30x longer).
    assert elapsed < 0.25, f"{elapsed * 1000:.0f} ms"
