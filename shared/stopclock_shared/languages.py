"""Which language a requester reads: their locale, ``?lang=``, ``Accept-Language``, else
English; how a date reads in each language; the address of a policy page in one.

Pure (no web framework): mail planning uses it as well as the pages."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALES: Final = ("en", "fr")
DEFAULT_LOCALE: Final = "en"

_MONTHS: Final = {
    "en": (
        "January February March April May June July August September October November December"
    ).split(),
    "fr": (
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    ).split(),
}


def locale_of(value: str | None, supported: Collection[str] = LOCALES) -> str:
    """``fr-CA`` → ``fr``; anything we have no words for → English."""
    language = (value or DEFAULT_LOCALE).replace("_", "-").split("-")[0].strip().lower()
    return language if language in supported else DEFAULT_LOCALE


def locale_from_header(accept_language: str | None, supported: Collection[str] = LOCALES) -> str:
    """The first language of an ``Accept-Language`` header we have words for.

    Languages are taken in the order given (browsers list them by preference); a ``q=0``
    entry is a refusal and is skipped.
    """
    for part in (accept_language or "").split(","):
        language, _, params = part.partition(";")
        if params.replace(" ", "").lower() in {"q=0", "q=0.0", "q=0.00", "q=0.000"}:
            continue
        code = language.strip().split("-")[0].lower()
        if code in supported:
            return code
    return DEFAULT_LOCALE


def negotiate(
    lang: str | None, accept_language: str | None, supported: Collection[str] = LOCALES
) -> str:
    """The language of a public page: ``?lang=`` when we speak it, else ``Accept-Language``,
    else English. An unknown ``lang`` is never an error."""
    if lang:
        code = lang.replace("_", "-").split("-")[0].strip().lower()
        if code in supported:
            return code
    return locale_from_header(accept_language, supported)


def date_words(day: date, locale: str) -> str:
    """``23 November 2026`` / ``23 novembre 2026``."""
    return f"{day.day} {_MONTHS[locale_of(locale)][day.month - 1]} {day.year}"


def local_date(moment: datetime, locale: str, timezone: str | None) -> str:
    """``23 November 2026`` / ``23 novembre 2026`` in the requester's time zone."""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return date_words(moment.astimezone(zone).date(), locale)


def policy_url(base: str, locale: str) -> str:
    """The address of a service's public ``/policy`` page in ``locale``."""
    return f"{base.rstrip('/')}/policy?lang={locale}"
