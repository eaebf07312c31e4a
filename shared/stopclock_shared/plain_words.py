"""Policies in plain words for requesters, in English and French (pure, no clock reads).

What the public policy pages (sla and escalation ``/policy``) say about a duration ("4
working hours", "1 day"), a calendar ("Monday-Friday 08:00-18:00 Paris time, public
holidays in France excepted", or "around the clock"), what a policy covers ("P1
incidents"), and the waits that stop a clock. Every function takes the stored specs as they
are (validated when written, but a page must never fail on an odd one): anything it cannot
read is said plainly rather than raised.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from .languages import date_words, locale_of

DAY_KEYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WAITING: Final = "waiting_on_user"
WAITING_REASONS: Final = ("info_requested", "user_validation", "user_response")
# The calendar that always exists (API.md): every day, all day, no holidays.
AROUND_THE_CLOCK: Final[Mapping[str, Any]] = {
    "timezone": "UTC",
    "week": {day: [["00:00", "24:00"]] for day in DAY_KEYS},
    "holidays": {},
}
_DAY: Final = 86_400
MAX_LISTED_DATES: Final = 6

_DAY_NAMES: Final = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}
# unit -> (singular, plural, working singular, working plural); the first unit of a working
# duration says "working".
_UNITS: Final = {
    "en": {
        "day": ("day", "days", "working day", "working days"),
        "hour": ("hour", "hours", "working hour", "working hours"),
        "minute": ("minute", "minutes", "working minute", "working minutes"),
        "second": ("second", "seconds", "working second", "working seconds"),
    },
    "fr": {
        "day": ("jour", "jours", "jour ouvré", "jours ouvrés"),
        "hour": ("heure", "heures", "heure ouvrée", "heures ouvrées"),
        "minute": ("minute", "minutes", "minute ouvrée", "minutes ouvrées"),
        "second": ("seconde", "secondes", "seconde ouvrée", "secondes ouvrées"),
    },
}
# ISO country -> (English "in …", French "en/au/aux …").
_COUNTRIES: Final = {
    "AT": ("in Austria", "en Autriche"),
    "BE": ("in Belgium", "en Belgique"),
    "CA": ("in Canada", "au Canada"),
    "CH": ("in Switzerland", "en Suisse"),
    "DE": ("in Germany", "en Allemagne"),
    "ES": ("in Spain", "en Espagne"),
    "FR": ("in France", "en France"),
    "GB": ("in the United Kingdom", "au Royaume-Uni"),
    "IE": ("in Ireland", "en Irlande"),
    "IT": ("in Italy", "en Italie"),
    "LU": ("in Luxembourg", "au Luxembourg"),
    "MA": ("in Morocco", "au Maroc"),
    "NL": ("in the Netherlands", "aux Pays-Bas"),
    "PL": ("in Poland", "en Pologne"),
    "PT": ("in Portugal", "au Portugal"),
    "US": ("in the United States", "aux États-Unis"),
}
_WORDS: Final = {
    "en": {
        "and": "and",
        "around_the_clock": "around the clock",
        "all_day": "all day",
        "no_hours": "no working hours set",
        "utc": "UTC",
        "zone": "{city} time",
        "holidays": "public holidays {where} excepted",
        "holidays_unknown": "public holidays ({code}) excepted",
        "closed_on": "also closed on {dates}",
        "more_dates": "{count} more days",
        "window": "{start}\u2013{end}",
        "days_range": "{first}\u2013{last}",
        "group": "{days} {hours}",
        "groups_sep": "; ",
        "week_zone": "{week} {zone}",
        "incident": "incidents",
        "service_request": "service requests",
        "ticket": "tickets",
        "all": "all {noun}",
        "priority": "{priority} {noun}",
        "service": "{who} for the service “{service}”",
        "percent": "{value}%",
    },
    "fr": {
        "and": "et",
        "around_the_clock": "24 heures sur 24, 7 jours sur 7",
        "all_day": "toute la journée",
        "no_hours": "aucune heure ouvrée définie",
        "utc": "heure UTC",
        "zone": "heure {de}{city}",
        "holidays": "hors jours fériés {where}",
        "holidays_unknown": "hors jours fériés ({code})",
        "closed_on": "fermé aussi le {dates}",
        "more_dates": "{count} autres jours",
        "window": "de {start} à {end}",
        "days_range": "du {first} au {last}",
        "group": "{days} {hours}",
        "groups_sep": " ; ",
        "week_zone": "{week}, {zone}",
        "incident": "incidents",
        "service_request": "demandes de service",
        "ticket": "tickets",
        "all": "{all} les {noun}",
        "priority": "les {noun} {priority}",
        "service": "{who} pour le service « {service} »",
        "percent": "{value} %",
    },
}
_FEMININE_FR: Final = frozenset({"service_request"})
# What stops a clock, said to the requester.
_STOPS: Final = {
    "en": {
        "info_requested": "we have asked you for information",
        "user_validation": "we have asked you to check that a fix works",
        "user_response": "we are waiting for your reply",
        "new": "your ticket has not yet been taken on by an agent",
        "assigned": "your ticket is assigned but work on it has not started",
        "in_progress": "an agent is working on your ticket",
        "other": "your ticket is in the status “{status}”",
    },
    "fr": {
        "info_requested": "nous vous avons demandé une information",
        "user_validation": "nous vous avons demandé de vérifier qu'une correction fonctionne",
        "user_response": "nous attendons votre réponse",
        "new": "votre ticket n'a pas encore été pris en charge par un agent",
        "assigned": "votre ticket est attribué mais le travail n'a pas commencé",
        "in_progress": "un agent travaille sur votre ticket",
        "other": "votre ticket est au statut « {status} »",
    },
}


@dataclass(frozen=True, slots=True)
class Hours:
    """The shape of a calendar that decides how durations on it read.

    ``always``: every day, all day (durations in plain days and hours); else working time,
    in working days when every working day has the same length ``day_seconds``.
    """

    always: bool
    day_seconds: int | None = None


def list_words(items: Sequence[str], locale: str) -> str:
    """``a``, ``a and b``, ``a, b and c`` (``et`` in French)."""
    words = _WORDS[locale_of(locale)]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {words['and']} {items[-1]}"


def duration_words(seconds: float, locale: str, hours: Hours = Hours(always=True)) -> str:
    """``4 working hours``, ``1 working day and 2 hours``, ``1 day``, ``15 minutes``.

    Rounded to the second; anything under a second reads as one second (a promise is
    never shown as zero). Units that are zero are left out.
    """
    locale = locale_of(locale)
    total = max(1, round(seconds)) if math.isfinite(seconds) and seconds > 0 else 1
    day = _DAY if hours.always else hours.day_seconds
    parts: list[tuple[str, int]] = []
    if day:
        parts.append(("day", total // day))
        total %= day
    parts += [("hour", total // 3600), ("minute", total % 3600 // 60), ("second", total % 60)]
    shown = [(unit, count) for unit, count in parts if count]
    words: list[str] = []
    for i, (unit, count) in enumerate(shown):
        forms = _UNITS[locale][unit]
        singular, plural = forms[2:] if i == 0 and not hours.always else forms[:2]
        words.append(f"{count} {singular if count == 1 else plural}")
    return list_words(words, locale)


def hours_of(spec: Mapping[str, Any]) -> Hours:
    """The shape of a calendar spec (``{timezone, week, holidays}``)."""
    lengths = [sum(b - a for a, b in _windows(spec, day)) for day in DAY_KEYS]
    if all(length == _DAY for length in lengths):
        return Hours(always=True)
    working = {length for length in lengths if length > 0}
    return Hours(always=False, day_seconds=working.pop() if len(working) == 1 else None)


def week_words(spec: Mapping[str, Any], locale: str) -> str:
    """``Monday-Friday 08:00-18:00``; days with the same hours grouped, three or more
    days in a row as a span; ``around the clock`` when every day is whole."""
    locale = locale_of(locale)
    words = _WORDS[locale]
    if hours_of(spec).always:
        return words["around_the_clock"]
    groups: dict[tuple[tuple[int, int], ...], list[int]] = {}
    for index, day in enumerate(DAY_KEYS):
        windows = _windows(spec, day)
        if windows:
            groups.setdefault(windows, []).append(index)
    if not groups:
        return words["no_hours"]
    said = [
        words["group"].format(days=_days_words(days, locale), hours=_windows_words(windows, locale))
        for windows, days in groups.items()
    ]
    return words["groups_sep"].join(said)


def zone_words(timezone: str, locale: str) -> str:
    """``Paris time`` / ``heure de Paris`` for ``Europe/Paris``; ``UTC`` for UTC."""
    locale = locale_of(locale)
    words = _WORDS[locale]
    if timezone.upper() in {"UTC", "ETC/UTC", "GMT", "ETC/GMT", "Z", "ZULU", "UCT"}:
        return words["utc"]
    city = timezone.rsplit("/", 1)[-1].replace("_", " ").strip() or timezone
    elided = city[:1].lower() in "aeiouyàâéèêîôû"
    return words["zone"].format(city=city, de="d'" if elided else "de ")


def holiday_words(holidays: Any, locale: str, today: date | None = None) -> list[str]:
    """``public holidays in France excepted`` and ``closed on …`` for the given dates
    (those before ``today`` left out; at most a few listed, then how many more)."""
    locale = locale_of(locale)
    words = _WORDS[locale]
    if not isinstance(holidays, Mapping):
        return []
    said: list[str] = []
    country = holidays.get("country")
    if isinstance(country, str) and country.strip():
        code = country.strip().upper()
        known = _COUNTRIES.get(code)
        if known is None:
            said.append(words["holidays_unknown"].format(code=code))
        else:
            said.append(words["holidays"].format(where=known[0 if locale == "en" else 1]))
    days = sorted({d for d in _dates(holidays.get("dates")) if today is None or d >= today})
    if days:
        named = [date_words(d, locale) for d in days[:MAX_LISTED_DATES]]
        if len(days) > MAX_LISTED_DATES:
            named.append(words["more_dates"].format(count=len(days) - MAX_LISTED_DATES))
        joiner = [named[0], *[("le " if locale == "fr" else "") + n for n in named[1:]]]
        said.append(words["closed_on"].format(dates=list_words(joiner, locale)))
    return said


def calendar_words(spec: Mapping[str, Any] | None, locale: str, today: date | None = None) -> str:
    """``Monday-Friday 08:00-18:00 Paris time, public holidays in France excepted``;
    ``around the clock`` for a calendar of whole days (None: the built-in 24x7)."""
    locale = locale_of(locale)
    spec = AROUND_THE_CLOCK if spec is None else spec
    week = week_words(spec, locale)
    if not hours_of(spec).always:
        zone = spec.get("timezone")
        week = _WORDS[locale]["week_zone"].format(
            week=week, zone=zone_words(zone if isinstance(zone, str) else "UTC", locale)
        )
    return ", ".join([week, *holiday_words(spec.get("holidays"), locale, today)])


def covers_words(
    ticket_type: str | None, priority: str | None, service: str | None, locale: str
) -> str:
    """What a policy covers: ``P1 incidents``, ``all service requests for the service
    “vpn”``, ``all tickets`` (French: ``les incidents P1``, ``toutes les demandes …``)."""
    locale = locale_of(locale)
    words = _WORDS[locale]
    kind = ticket_type if ticket_type in {"incident", "service_request"} else "ticket"
    noun = words[kind]
    if ticket_type and kind == "ticket":
        noun = f"{noun} “{ticket_type}”" if locale == "en" else f"{noun} « {ticket_type} »"
    if priority:
        who = words["priority"].format(priority=priority, noun=noun)
    else:
        every = "toutes" if kind in _FEMININE_FR else "tous"
        who = words["all"].format(all=every, noun=noun)
    if service is not None:
        who = words["service"].format(who=who, service=service)
    return who


def capitalized(text: str) -> str:
    """The first letter up (a heading from a phrase)."""
    return text[:1].upper() + text[1:]


def stopping_waits(pause_statuses: Iterable[str], pause_reasons: Iterable[str] | None) -> list[str]:
    """What stops one target's clock, as keys: the waiting reasons (``info_requested``…)
    when the policy pauses on ``waiting_on_user``, narrowed by the target's
    ``pause_reasons`` (None: all of them), then any other pause status, in order."""
    statuses = list(dict.fromkeys(pause_statuses))
    keys: list[str] = []
    if WAITING in statuses:
        reasons = WAITING_REASONS if pause_reasons is None else tuple(pause_reasons)
        keys += list(dict.fromkeys(reasons))
    keys += [s for s in statuses if s != WAITING and s not in keys]
    return keys


def stop_words(key: str, locale: str) -> str:
    """One wait of ``stopping_waits`` as the requester reads it."""
    table = _STOPS[locale_of(locale)]
    return table[key] if key in table and key != "other" else table["other"].format(status=key)


def percent_words(fraction: float, locale: str) -> str:
    """``50%`` / ``50 %``; ``33.3%`` / ``33,3 %`` (one decimal at most)."""
    locale = locale_of(locale)
    value = round(fraction * 100, 1) if math.isfinite(fraction) else 0.0
    text = f"{value:.1f}".removesuffix(".0")
    if locale == "fr":
        text = text.replace(".", ",")
    return _WORDS[locale]["percent"].format(value=text)


def _windows(spec: Mapping[str, Any], day: str) -> tuple[tuple[int, int], ...]:
    """A day's windows in seconds since midnight; unreadable ones left out."""
    week = spec.get("week")
    raw = week.get(day) if isinstance(week, Mapping) else None
    found: list[tuple[int, int]] = []
    for window in raw if isinstance(raw, list) else []:
        if isinstance(window, list | tuple) and len(window) == 2:
            start, end = _clock(window[0]), _clock(window[1])
            if start is not None and end is not None and start < end:
                found.append((start, end))
    return tuple(sorted(found))


def _clock(text: Any) -> int | None:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        return None
    hh, mm = text[:2], text[3:]
    if not (hh.isdigit() and mm.isdigit()):
        return None
    seconds = int(hh) * 3600 + int(mm) * 60
    return seconds if 0 <= seconds <= _DAY and int(mm) < 60 else None


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _windows_words(windows: tuple[tuple[int, int], ...], locale: str) -> str:
    words = _WORDS[locale]
    if windows == ((0, _DAY),):
        return words["all_day"]
    said = [words["window"].format(start=_hhmm(a), end=_hhmm(b)) for a, b in windows]
    return list_words(said, locale)


def _days_words(days: list[int], locale: str) -> str:
    """Runs of three or more days in a row as a span, other days named one by one."""
    names = _DAY_NAMES[locale]
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    said: list[str] = []
    for run in runs:
        if len(run) >= 3:
            span = _WORDS[locale]["days_range"]
            said.append(span.format(first=names[run[0]], last=names[run[-1]]))
        else:
            said += [names[d] for d in run]
    return list_words(said, locale)


def _dates(raw: Any) -> list[date]:
    found: list[date] = []
    for value in raw if isinstance(raw, list) else []:
        try:
            found.append(date.fromisoformat(str(value)))
        except ValueError:
            continue
    return found
