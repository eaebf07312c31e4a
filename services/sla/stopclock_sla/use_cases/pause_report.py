"""The pause audit use case: `GET /api/v1/sla/reports/pauses` (docs/pause-audit.md).

Reads the resolution clocks started in a window page by page (keyset on the indexed
`resolution_started_at`), and adds each ticket's figures (`domain.pause_audit`) at `now`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Final

import orjson

from stopclock_shared.auth import Principal, Role
from stopclock_shared.errors import Forbidden, Invalid
from stopclock_shared.unit_of_work import UnitOfWork
from stopclock_sla.domain import PauseReport, TicketClocks, audit_ticket

from ..repository import AuditKey, AuditWindow, SlaRepository
from ..version_cache import VersionCache

AUDITORS: Final = (Role.ADMIN, Role.MANAGER)
"""Who may read the pause audit (the desk's managers, and admins)."""
DEFAULT_SPAN: Final = timedelta(days=30)
MAX_SPAN: Final = timedelta(days=366)
PAGE: Final = 500


def report_window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The window [start, end): `end` defaults to now, `start` to 30 days before `end`;
    `start < end`, at most 366 days; else `Invalid` naming the field."""
    end = _utc(end or now, "to")
    start = _utc(start, "from") if start is not None else _utc(end, "to", -DEFAULT_SPAN)
    if start >= end:
        raise Invalid.field("to", "must be after from")
    if end - start > MAX_SPAN:
        raise Invalid.field("from", "the window is at most 366 days")
    return start, end


def _utc(moment: datetime, name: str, shift: timedelta = timedelta(0)) -> datetime:
    try:
        return moment.astimezone(UTC) + shift
    except OverflowError:
        raise Invalid.field(name, "out of the range of dates this service handles") from None


async def pause_report(
    uow: UnitOfWork[SlaRepository],
    cache: VersionCache,
    principal: Principal,
    start: datetime | None,
    end: datetime | None,
    service: str | None,
    now: datetime,
) -> dict[str, object]:
    """The pause audit over the resolution clocks started in [start, end) (`report_window`),
    at `now`. `Forbidden` unless the principal is a manager or an admin."""
    if not principal.has_any(AUDITORS):
        allowed = ", ".join(r.value for r in AUDITORS)
        raise Forbidden(f"This action needs one of the roles: {allowed}")
    window = AuditWindow(*report_window(start, end, now), service)
    repo = uow.repo
    report = PauseReport()
    after: AuditKey | None = None
    while True:
        rows = await repo.resolution_clocks_page(window, after, PAGE)
        aggregates = [TicketClocks.from_dict(orjson.loads(r[2])) for r in rows]
        cals = await cache.calendars(repo, {c.calendar for a in aggregates for c in a.clocks})
        for agg in aggregates:
            figures = audit_ticket(agg, cals, now)
            if figures is not None:
                report.add(figures)
        if len(rows) < PAGE:
            return report.body()
        after = (rows[-1][0], rows[-1][1])
        await asyncio.sleep(0)  # a year of clocks is CPU work: let the consumers run
