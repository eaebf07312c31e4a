"""Business time: durations counted only inside a calendar's working hours.

A `Calendar` is a set of weekly wall-clock windows in an IANA time zone, minus holidays
(local dates). Business time is real elapsed time (SI seconds) spent inside those
windows. Each local day's windows are converted to UTC instants once, so a DST day is
exact: an 08:00-18:00 day is 10 h of business time even when the clocks change that
night, and a 00:00-24:00 day lasts 23 h or 25 h.

Windows that touch a DST transition are read this way (deterministic, documented):

* a wall time skipped by a spring-forward jump maps to the instant of the jump;
* a wall time repeated by a fall-back maps to its first occurrence.

Both rules keep the mapping from wall time to instants non-decreasing, so windows that
do not overlap in wall time never overlap in UTC: no business second is counted twice.

Internally everything is integer microseconds since the Unix epoch: additions and
measures are exact, and `add` then `measure` gives back the duration exactly (to the
microsecond the caller's float rounds to). The `*_us` functions expose that form to the
SLA clock, which chains many of them.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

__all__ = [
    "DEFAULT_HOLIDAY_YEARS",
    "WEEKDAY_KEYS",
    "Calendar",
    "CalendarError",
    "DayHours",
    "Window",
    "add_business_seconds",
    "add_business_us",
    "business_seconds_between",
    "business_us_between",
    "calendar_from_spec",
    "calendar_to_spec",
    "format_day_time",
    "from_us",
    "parse_day_time",
    "to_us",
]

DAY_SECONDS = 86_400
US_PER_SECOND = 1_000_000
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Years whose country holidays a calendar knows when the caller does not say; a
# calendar outlives the request that defined it, so the range is wide on purpose.
DEFAULT_HOLIDAY_YEARS = range(2020, 2070)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_SIX_DAYS = timedelta(days=6)
_ONE_WEEK = timedelta(days=7)
_DAY_CACHE_MAX = 20_000  # local days of UTC windows kept per calendar
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})$")

Window = tuple[int, int]
"""A working window: (start, end) in seconds after local midnight, 0 <= start < end <= 86400."""
DayHours = tuple[Window, ...]
"""The sorted, non-overlapping windows of one weekday."""


class CalendarError(ValueError):
    """A calendar definition is invalid; `field` names the offending part of the spec."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Calendar:
    """Weekly working windows in a time zone, minus holidays.

    `week` has seven entries, Monday first (index = `date.weekday()`); each is a sorted
    tuple of non-overlapping `Window`s. `holidays` are local dates without working time.
    Construction validates everything and raises `CalendarError`; a calendar must have
    some working time, so every addition terminates.
    """

    name: str
    timezone: str
    week: tuple[DayHours, ...]
    holidays: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _always: bool = field(init=False, repr=False, compare=False, hash=False)
    # Memo of local date -> UTC windows in epoch microseconds. Mutating the dict keeps
    # the dataclass frozen in spirit: its content is a pure function of the fields.
    _days: dict[date, tuple[tuple[int, int], ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )
    # Business time of a plain week (no holiday, no change of UTC offset), and the holidays
    # sorted, so that long walks jump whole weeks instead of visiting every day.
    _week_us: int = field(init=False, repr=False, compare=False, hash=False)
    _holiday_list: tuple[date, ...] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", _zone(self.timezone))
        if len(self.week) != 7:
            raise CalendarError("week", "needs exactly seven days, Monday first")
        for weekday, hours in enumerate(self.week):
            _check_day(WEEKDAY_KEYS[weekday], hours)
        if not any(self.week):
            raise CalendarError("week", "a calendar must have some working time")
        full_day: DayHours = ((0, DAY_SECONDS),)
        always = all(hours == full_day for hours in self.week) and not self.holidays
        object.__setattr__(self, "_always", always)
        object.__setattr__(self, "_days", {})
        nominal = sum(end - start for hours in self.week for start, end in hours)
        object.__setattr__(self, "_week_us", nominal * US_PER_SECOND)
        object.__setattr__(self, "_holiday_list", tuple(sorted(self.holidays)))

    @classmethod
    def always(cls, name: str = "24x7") -> Calendar:
        """The 24x7 calendar: every instant is business time (plain wall-clock arithmetic)."""
        full_day: DayHours = ((0, DAY_SECONDS),)
        return cls(name, "UTC", (full_day,) * 7)

    @classmethod
    def weekly(
        cls,
        name: str,
        timezone: str,
        week: Mapping[int, Iterable[tuple[time | str, time | str]]],
        holidays: Iterable[date] = (),
    ) -> Calendar:
        """Build from weekday (0=Mon..6) -> [(start, end)], times as `time` or "HH:MM".

        An end of "24:00" means the end of the day; missing weekdays have no working time.
        """
        days: list[DayHours] = [() for _ in range(7)]
        for weekday, windows in week.items():
            if not 0 <= weekday <= 6:
                raise CalendarError("week", f"unknown weekday {weekday}")
            key = WEEKDAY_KEYS[weekday]
            days[weekday] = _sorted_windows(
                key,
                [
                    (_seconds_of(start, f"week.{key}[{i}]"), _seconds_of(end, f"week.{key}[{i}]"))
                    for i, (start, end) in enumerate(windows)
                ],
            )
        return cls(name, timezone, tuple(days), frozenset(holidays))

    @property
    def is_always(self) -> bool:
        """True when every instant is business time (arithmetic is wall-clock)."""
        return self._always

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return self._zone

    def windows_on(self, day: date) -> tuple[tuple[int, int], ...]:
        """UTC windows (epoch microseconds, half-open) of a local date, empty on holidays."""
        cached = self._days.get(day)
        if cached is None:
            cached = self._compute_windows(day)
            if len(self._days) >= _DAY_CACHE_MAX:
                self._days.clear()
            self._days[day] = cached
        return cached

    @property
    def week_us(self) -> int:
        """Business microseconds of a plain week (see ``plain_week``)."""
        return self._week_us

    def plain_week(self, first: date) -> bool:
        """True when the seven local days from ``first`` have no holiday and one UTC offset
        (no DST change): their business time is then exactly ``week_us``. (Zones never
        change their offset twice within a week.)"""
        i = bisect.bisect_left(self._holiday_list, first)
        if i < len(self._holiday_list) and self._holiday_list[i] < first + _ONE_WEEK:
            return False
        return self._midnight_offset(first) == self._midnight_offset(first + _ONE_WEEK)

    def _midnight_offset(self, day: date) -> timedelta | None:
        return datetime(day.year, day.month, day.day, tzinfo=self._zone).utcoffset()

    def local_date(self, us: int) -> date:
        """The local date of an instant given in epoch microseconds."""
        return (_EPOCH + timedelta(microseconds=us)).astimezone(self._zone).date()

    def _compute_windows(self, day: date) -> tuple[tuple[int, int], ...]:
        hours = self.week[day.weekday()]
        if not hours or day in self.holidays:
            return ()
        windows = []
        for start, end in hours:
            start_us = self._wall_to_us(day, start)
            end_us = self._wall_to_us(day, end)
            if end_us > start_us:  # a window wholly inside a skipped hour is empty
                windows.append((start_us, end_us))
        return tuple(windows)

    def _wall_to_us(self, day: date, seconds: int) -> int:
        """Instant of a local wall time (skipped -> the jump; repeated -> first occurrence)."""
        naive = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
        first = (naive.replace(tzinfo=self._zone) - _EPOCH) // _ONE_US  # fold=0
        if _wall(first, self._zone) == naive:
            return first
        # Skipped by a forward jump: fold=0 read it with the old offset (after the jump),
        # fold=1 with the new one (before it). The jump lies between: find it exactly.
        lo = (naive.replace(tzinfo=self._zone, fold=1) - _EPOCH) // _ONE_US
        hi = first
        after = _offset(hi, self._zone)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _offset(mid, self._zone) == after:
                hi = mid
            else:
                lo = mid
        return hi


def to_us(moment: datetime) -> int:
    """Epoch microseconds of an aware datetime (exact, fold-aware)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an aware datetime is required")
    return (moment - _EPOCH) // _ONE_US


def from_us(us: int) -> datetime:
    """The UTC datetime of epoch microseconds."""
    return _EPOCH + timedelta(microseconds=us)


def add_business_us(cal: Calendar, start_us: int, amount_us: int) -> int:
    """`start_us` moved by `amount_us` business microseconds (backwards when negative).

    Forwards, the result is the first instant at which the amount has elapsed; backwards,
    the last instant from which it elapses until `start_us`. Zero returns `start_us` even
    outside working hours.
    """
    if amount_us == 0 or cal.is_always:
        return start_us + amount_us
    if amount_us > 0:
        return _forward(cal, start_us, amount_us)
    return _backward(cal, start_us, -amount_us)


def business_us_between(cal: Calendar, start_us: int, end_us: int) -> int:
    """Business microseconds from `start_us` to `end_us`; negated when end precedes start."""
    if end_us < start_us:
        return -business_us_between(cal, end_us, start_us)
    if cal.is_always:
        return end_us - start_us
    total = 0
    first_day = cal.local_date(start_us)
    last_day = cal.local_date(end_us)
    day = first_day - _ONE_DAY
    last = last_day + _ONE_DAY
    while day <= last:
        # Weeks wholly inside (start, end) count whole when plain.
        while first_day < day and day + _ONE_WEEK <= last_day and cal.plain_week(day):
            total += cal.week_us
            day += _ONE_WEEK
        for a, b in cal.windows_on(day):
            lo = max(a, start_us)
            hi = min(b, end_us)
            if hi > lo:
                total += hi - lo
        day += _ONE_DAY
    return total


def add_business_seconds(cal: Calendar, start: datetime, seconds: float) -> datetime:
    """`start` moved by `seconds` of business time on `cal` (an aware UTC datetime).

    The duration is rounded to the microsecond. Negative durations walk backwards.
    """
    return from_us(add_business_us(cal, to_us(start), _seconds_to_us(seconds)))


def business_seconds_between(cal: Calendar, start: datetime, end: datetime) -> float:
    """Business seconds from `start` to `end` on `cal`.

    Signed: when `end` precedes `start` the result is minus the measure from `end` to
    `start`, so measures add up over any split points (m(a, c) == m(a, b) + m(b, c)).
    """
    return business_us_between(cal, to_us(start), to_us(end)) / US_PER_SECOND


def calendar_from_spec(
    name: str, spec: Mapping[str, Any], years: Iterable[int] = DEFAULT_HOLIDAY_YEARS
) -> Calendar:
    """Build a calendar from the API body `{timezone, week, holidays: {country?, dates?}}`.

    `week` maps "mon".."sun" to `[["08:00", "18:00"], ...]` ("24:00" ends a day).
    `holidays.country` (ISO code, with optional `subdiv`) is expanded for `years` with the
    `holidays` package; `holidays.dates` adds local dates ("2026-12-25"). Raises
    `CalendarError(field, message)` on the first problem found.
    """
    timezone = spec.get("timezone")
    if not isinstance(timezone, str) or not timezone:
        raise CalendarError("timezone", "an IANA time zone name is required")
    _zone(timezone)
    week_spec = spec.get("week")
    if not isinstance(week_spec, Mapping):
        raise CalendarError("week", 'expected an object like {"mon": [["08:00", "18:00"]]}')
    days: list[DayHours] = [() for _ in range(7)]
    for key, windows in week_spec.items():
        if key not in WEEKDAY_KEYS:
            raise CalendarError(f"week.{key}", f"unknown day; use one of {', '.join(WEEKDAY_KEYS)}")
        days[WEEKDAY_KEYS.index(key)] = _parse_day(key, windows)
    return Calendar(name, timezone, tuple(days), _parse_holidays(spec.get("holidays"), years))


def calendar_to_spec(cal: Calendar) -> dict[str, Any]:
    """The `timezone` and `week` of a calendar in API form (holidays are kept by the caller)."""
    week = {
        WEEKDAY_KEYS[i]: [[format_day_time(a), format_day_time(b)] for a, b in hours]
        for i, hours in enumerate(cal.week)
        if hours
    }
    return {"timezone": cal.timezone, "week": week}


def parse_day_time(text: str) -> int:
    """Seconds after midnight of "HH:MM" (00:00..24:00); raises ValueError otherwise."""
    match = _TIME_RE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not HH:MM")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{text!r} is not a time of day between 00:00 and 24:00")
    return hours * 3600 + minutes * 60


def format_day_time(seconds: int) -> str:
    """ "HH:MM" (or "HH:MM:SS" when needed) of seconds after midnight; 86400 is "24:00"."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


# --- walking -------------------------------------------------------------------------


def _forward(cal: Calendar, t: int, amount: int) -> int:
    # Start a day early: with odd zones a window of the previous local date can still
    # be open at `t`. The loop ends because every week has working time. Days after the
    # one of `t` lie wholly after it: there, plain weeks are skipped whole while more than
    # a week of business time is left.
    start_day = cal.local_date(t)
    day = start_day - _ONE_DAY
    while True:
        while day > start_day and amount > cal.week_us and cal.plain_week(day):
            amount -= cal.week_us
            day += _ONE_WEEK
        for a, b in cal.windows_on(day):
            if b <= t:
                continue
            lo = max(a, t)
            if amount <= b - lo:
                return lo + amount
            amount -= b - lo
        day += _ONE_DAY


def _backward(cal: Calendar, t: int, amount: int) -> int:
    start_day = cal.local_date(t)
    day = start_day + _ONE_DAY
    while True:
        # The seven days ending with `day` lie wholly before `t`: skip them when plain.
        while day < start_day and amount > cal.week_us and cal.plain_week(day - _SIX_DAYS):
            amount -= cal.week_us
            day -= _ONE_WEEK
        for a, b in reversed(cal.windows_on(day)):
            if a >= t:
                continue
            hi = min(b, t)
            if amount <= hi - a:
                return hi - amount
            amount -= hi - a
        day -= _ONE_DAY


# --- helpers -------------------------------------------------------------------------


def _seconds_to_us(seconds: float) -> int:
    if not math.isfinite(seconds):
        raise ValueError("a finite number of seconds is required")
    return round(seconds * US_PER_SECOND)


def _wall(us: int, zone: ZoneInfo) -> datetime:
    return (_EPOCH + timedelta(microseconds=us)).astimezone(zone).replace(tzinfo=None)


def _offset(us: int, zone: ZoneInfo) -> timedelta | None:
    return (_EPOCH + timedelta(microseconds=us)).astimezone(zone).utcoffset()


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError("timezone", f"unknown time zone {name!r}") from None


def _check_day(key: str, hours: DayHours) -> None:
    previous_end = -1
    for i, (start, end) in enumerate(hours):
        where = f"week.{key}[{i}]"
        if not (isinstance(start, int) and isinstance(end, int)):
            raise CalendarError(where, "window bounds must be whole seconds")
        if not 0 <= start < end <= DAY_SECONDS:
            raise CalendarError(where, "a window must start before it ends, within the day")
        if start < previous_end:
            raise CalendarError(where, "windows must be sorted and must not overlap")
        previous_end = end


def _sorted_windows(key: str, windows: list[Window]) -> DayHours:
    for i, (start, end) in enumerate(windows):
        if start >= end:
            raise CalendarError(f"week.{key}[{i}]", "a window must start before it ends")
    ordered = tuple(sorted(windows))
    for (_, end), (start, _) in itertools.pairwise(ordered):
        if start < end:
            raise CalendarError(f"week.{key}", "windows overlap")
    return ordered


def _seconds_of(value: time | str, where: str) -> int:
    if isinstance(value, time):
        return value.hour * 3600 + value.minute * 60 + value.second
    try:
        return parse_day_time(value)
    except (TypeError, ValueError) as exc:
        raise CalendarError(where, str(exc)) from None


def _parse_day(key: str, windows: Any) -> DayHours:
    if not isinstance(windows, list | tuple):
        raise CalendarError(f"week.{key}", 'expected a list like [["08:00", "18:00"]]')
    parsed: list[Window] = []
    for i, window in enumerate(windows):
        where = f"week.{key}[{i}]"
        if not isinstance(window, list | tuple) or len(window) != 2:
            raise CalendarError(where, 'expected ["HH:MM", "HH:MM"]')
        start, end = window
        if not (isinstance(start, str) and isinstance(end, str)):
            raise CalendarError(where, 'expected ["HH:MM", "HH:MM"]')
        parsed.append((_seconds_of(start, where), _seconds_of(end, where)))
    return _sorted_windows(key, parsed)


def _parse_holidays(spec: Any, years: Iterable[int]) -> frozenset[date]:
    if spec is None:
        return frozenset()
    if not isinstance(spec, Mapping):
        raise CalendarError("holidays", "expected an object {country?, subdiv?, dates?}")
    days: set[date] = set()
    country = spec.get("country")
    subdiv = spec.get("subdiv")
    if country is not None:
        if not isinstance(country, str):
            raise CalendarError("holidays.country", "expected an ISO 3166 country code")
        if subdiv is not None and not isinstance(subdiv, str):
            raise CalendarError("holidays.subdiv", "expected a subdivision code")
        try:
            days.update(
                holidays_lib.country_holidays(country.upper(), subdiv=subdiv, years=list(years))
            )
        except NotImplementedError as exc:
            field_name = "holidays.subdiv" if "subdivision" in str(exc) else "holidays.country"
            raise CalendarError(field_name, str(exc)) from None
    elif subdiv is not None:
        raise CalendarError("holidays.subdiv", "a subdivision needs a country")
    dates = spec.get("dates", [])
    if not isinstance(dates, list | tuple):
        raise CalendarError("holidays.dates", 'expected a list like ["2026-12-25"]')
    for i, text in enumerate(dates):
        try:
            days.add(date.fromisoformat(text))
        except (TypeError, ValueError):
            raise CalendarError(f"holidays.dates[{i}]", f"{text!r} is not a date") from None
    return frozenset(days)
