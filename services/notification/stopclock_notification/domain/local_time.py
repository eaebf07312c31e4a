"""Times written the way the recipient reads them: their time zone, their language."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stopclock_notification.domain.locales import DEFAULT_TIMEZONE, resolve_locale

# Our own small tables: two languages do not justify a dependency on Babel.
_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}
_MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
}
# Between the date and the time: "Tuesday 14 May 2024, 09:30" / "mardi 14 mai 2024 à 09:30".
_AT = {"en": ", ", "fr": " à "}


def parse_instant(value: datetime | str) -> datetime:
    """An aware datetime from an RFC 3339 string or a datetime; naive values are taken as UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def zone(name: str | None) -> tuple[ZoneInfo, str]:
    """The zone for an IANA name, and the name to show; UTC when the name is unknown."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE), name or DEFAULT_TIMEZONE
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE), DEFAULT_TIMEZONE


def format_local_time(value: datetime | str, timezone: str | None, locale: str | None) -> str:
    """`value` on the recipient's wall clock with the zone named, e.g.
    `Tuesday 14 May 2024, 09:30 (Europe/Paris)` or `mardi 14 mai 2024 à 09:30 (Europe/Paris)`.
    """
    tz, tz_name = zone(timezone)
    local = parse_instant(value).astimezone(tz)
    language = resolve_locale(locale)
    weekday = _WEEKDAYS[language][local.weekday()]
    month = _MONTHS[language][local.month - 1]
    return f"{weekday} {local.day} {month} {local.year}{_AT[language]}{local:%H:%M} ({tz_name})"
