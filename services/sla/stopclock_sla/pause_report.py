"""The pause audit use case: `GET /api/v1/sla/reports/pauses` (docs/pause-audit.md).

Reads the resolution clocks started in a window page by page (keyset on the indexed
`resolution_started_at`), and adds each ticket's figures (`domain.pause_audit`) at `now`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.problems import field_error
from stopclock_sla.domain import PauseReport, TicketClocks, audit_ticket

from . import repository as repo
from .catalog import Catalog

DEFAULT_SPAN: Final = timedelta(days=30)
MAX_SPAN: Final = timedelta(days=366)
PAGE: Final = 500


def report_window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The window [start, end): `end` defaults to now, `start` to 30 days before `end`;
    `start < end`, at most 366 days; else a 422 problem naming the field."""
    end = _utc(end or now, "to")
    start = _utc(start, "from") if start is not None else _utc(end, "to", -DEFAULT_SPAN)
    if start >= end:
        raise field_error("to", "must be after from")
    if end - start > MAX_SPAN:
        raise field_error("from", "the window is at most 366 days")
    return start, end


def _utc(moment: datetime, name: str, shift: timedelta = timedelta(0)) -> datetime:
    try:
        return moment.astimezone(UTC) + shift
    except OverflowError:
        raise field_error(name, "out of the range of dates this service handles") from None


async def pause_report(
    session: AsyncSession,
    catalog: Catalog,
    start: datetime,
    end: datetime,
    service: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The pause audit over the resolution clocks started in [start, end), at `now`."""
    report = PauseReport()
    after = None
    while True:
        rows = await repo.resolution_clocks_page(session, start, end, service, after, PAGE)
        aggregates = [TicketClocks.from_dict(orjson.loads(r[2])) for r in rows]
        cals = await catalog.calendars(session, {c.calendar for a in aggregates for c in a.clocks})
        for agg in aggregates:
            figures = audit_ticket(agg, cals, now)
            if figures is not None:
                report.add(figures)
        if len(rows) < PAGE:
            return report.body()
        after = (rows[-1][0], rows[-1][1])
        await asyncio.sleep(0)  # a year of clocks is CPU work: let the consumers run
