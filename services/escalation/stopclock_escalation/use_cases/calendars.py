"""The service's copy of the SLA calendars, and built ``Calendar`` objects.

The SLA service owns calendars and publishes every definition on ``sla.events``
(``stopclock.sla.calendar_updated.v1``, key = name). We store the spec and build the
``Calendar`` once per version: expanding a country's holidays over decades is not free.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from stopclock_shared.business_time import Calendar, calendar_from_spec
from stopclock_shared.errors import Invalid
from stopclock_shared.events.sla import CalendarUpdated

from ..domain.policy import ALWAYS_CALENDAR
from ..repository import CalendarCopy, EscalationUnitOfWork

log = logging.getLogger(__name__)
NAME_MAX_LENGTH = 200
_ALWAYS = Calendar.always(ALWAYS_CALENDAR)
_built: dict[tuple[str, datetime], Calendar] = {}


def _calendar(copy: CalendarCopy) -> Calendar:
    """The calendar of one stored version (raises ``CalendarError`` on a bad spec)."""
    key = (copy.name, copy.updated_at)
    cal = _built.get(key)
    if cal is None:
        cal = calendar_from_spec(copy.name, copy.spec)
        _built[key] = cal
    return cal


async def keep_calendar(uow: EscalationUnitOfWork, update: CalendarUpdated) -> None:
    """Keep a copy of an SLA calendar; a name or spec we cannot use raises (the event is
    dead-lettered), and an older version never replaces a newer one."""
    if not 1 <= len(update.name) <= NAME_MAX_LENGTH:
        raise Invalid.field("name", f"must be 1 to {NAME_MAX_LENGTH} characters")
    copy = CalendarCopy(update.name, update.spec, update.updated_at)
    _calendar(copy)
    await uow.repo.upsert_calendar(copy)


async def calendar_named(uow: EscalationUnitOfWork, name: str) -> Calendar:
    """The current calendar ``name``; ``24x7`` when it is that or no longer known."""
    if name == ALWAYS_CALENDAR:
        return _ALWAYS
    copy = await uow.repo.get_calendar(name)
    if copy is None:
        # Validation refused unknown calendars when the policy was stored; if the SLA
        # service has forgotten it since, counting plain time beats never reminding.
        log.warning("calendar %s is unknown; counting on 24x7", name)
        return _ALWAYS
    return _calendar(copy)


async def known_calendar_names(uow: EscalationUnitOfWork) -> set[str]:
    """Names of every calendar policies may use."""
    return {ALWAYS_CALENDAR, *(c.name for c in await uow.repo.list_calendars())}


async def calendar_specs(uow: EscalationUnitOfWork) -> dict[str, Mapping[str, object]]:
    """Name -> spec of every calendar the service has learnt (for the policy page)."""
    return {c.name: c.spec for c in await uow.repo.list_calendars()}
