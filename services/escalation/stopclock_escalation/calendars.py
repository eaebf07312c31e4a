"""The escalation service's copy of the SLA calendars, and built ``Calendar`` objects.

The SLA service owns calendars and publishes every definition on ``sla.events``
(``stopclock.sla.calendar_updated.v1``, key = name). We store the spec and build the
``Calendar`` once per version: expanding a country's holidays over decades is not free.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.business_time import Calendar, calendar_from_spec
from stopclock_shared.events.types import EventType

from . import repository as repo
from .domain.policy import ALWAYS_CALENDAR

log = logging.getLogger(__name__)
CALENDAR_UPDATED = EventType.SLA_CALENDAR_UPDATED.value
_ALWAYS = Calendar.always(ALWAYS_CALENDAR)
_built: dict[tuple[str, datetime], Calendar] = {}


def build(name: str, spec: dict[str, Any], updated_at: datetime) -> Calendar:
    """The calendar of one stored version (raises ``CalendarError`` on a bad spec)."""
    key = (name, updated_at)
    cal = _built.get(key)
    if cal is None:
        cal = calendar_from_spec(name, spec)
        _built[key] = cal
    return cal


async def calendar_named(session: AsyncSession, name: str) -> Calendar:
    """The current calendar ``name``; ``24x7`` when it is that or no longer known."""
    if name == ALWAYS_CALENDAR:
        return _ALWAYS
    row = await repo.get_calendar(session, name)
    if row is None:
        # Validation refused unknown calendars when the policy was stored; if the SLA
        # service has forgotten it since, counting plain time beats never reminding.
        log.warning("calendar %s is unknown; counting on 24x7", name)
        return _ALWAYS
    return build(name, row["spec"], row["updated_at"])


async def known_names(session: AsyncSession) -> set[str]:
    """Names of every calendar policies may use."""
    return {ALWAYS_CALENDAR, *await repo.calendar_names(session)}
