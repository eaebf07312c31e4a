"""HTTP routes of the sla service; thin: parse, authorize, call a use case, shape."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AwareDatetime
from sqlalchemy import Table

from stopclock_shared.auth import Principal, PrincipalDep, Role, require_roles
from stopclock_shared.db import SessionDep, utc_now
from stopclock_shared.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    Page,
    decode_key_cursor,
    encode_key_cursor,
)

from . import pause_report, service
from . import repository as repo
from .catalog import Catalog
from .models import calendars, policies
from .schemas import (
    CalendarIn,
    CalendarRead,
    PauseReportRead,
    PolicyIn,
    PolicyRead,
    TicketClocksRead,
)
from .settings import SlaSettings
from .timers import SlaTimers

router = APIRouter(prefix="/api/v1/sla")
Writer = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.MANAGER))]
Auditor = Writer  # the pause audit is for managers and admins too
Name = Annotated[str, Path(min_length=1, max_length=100)]
VersionQuery = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="A past version (default: current)")
]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"description": desc, "content": {"application/problem+json": {}}}
    for code, desc in {
        401: "Missing or bad token",
        403: "Not allowed",
        404: "Unknown name or ticket",
        409: "The built-in 24x7 calendar cannot be replaced",
        422: "Validation error",
    }.items()
}


def catalog_of(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.runtime.extras["catalog"]
    return catalog


def events_topic(request: Request) -> str:
    settings: SlaSettings = request.app.state.settings
    return settings.events_topic


async def _page(
    session: Any, table: Table, limit: int, cursor: str | None, shape: Any
) -> dict[str, Any]:
    after = decode_key_cursor(cursor) if cursor else None
    rows = await repo.list_current(session, table, after, limit)
    items = [shape(r) for r in rows[:limit]]
    more = len(rows) > limit
    return {"items": items, "next_cursor": encode_key_cursor(items[-1]["name"]) if more else None}


# --- policies -----------------------------------------------------------------------------


@router.get(
    "/policies",
    response_model=Page[PolicyRead],
    responses=PROBLEMS,
    tags=["policies"],
)
async def list_policies(
    session: SessionDep,
    principal: PrincipalDep,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Any:
    """Current policies by name; each shows what pauses it (customers see the pause policy)."""
    return await _page(session, policies, limit, cursor, service.policy_read)


@router.get(
    "/policies/{name}",
    response_model=PolicyRead,
    responses=PROBLEMS,
    tags=["policies"],
)
async def get_policy(
    name: Name, session: SessionDep, principal: PrincipalDep, version: VersionQuery = None
) -> Any:
    row = await service.get_current(session, policies, "Policy", name, version)
    return service.policy_read(row)


@router.put(
    "/policies/{name}",
    response_model=PolicyRead,
    responses={**PROBLEMS, 201: {"description": "Created", "model": PolicyRead}},
    tags=["policies"],
)
async def put_policy(
    name: Name,
    body: PolicyIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> Any:
    """Add a version (201 for a new name); it applies to tickets that start after it."""
    spec = body.model_dump(exclude_none=True)
    read, created = await service.put_policy(session, catalog_of(request), name, spec, utc_now())
    response.status_code = 201 if created else 200
    return read


# --- calendars ----------------------------------------------------------------------------


@router.get("/calendars", response_model=Page[CalendarRead], responses=PROBLEMS, tags=["calendars"])
async def list_calendars(
    session: SessionDep,
    principal: PrincipalDep,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Any:
    return await _page(session, calendars, limit, cursor, service.calendar_read)


@router.get(
    "/calendars/{name}", response_model=CalendarRead, responses=PROBLEMS, tags=["calendars"]
)
async def get_calendar(
    name: Name, session: SessionDep, principal: PrincipalDep, version: VersionQuery = None
) -> Any:
    row = await service.get_current(session, calendars, "Calendar", name, version)
    return service.calendar_read(row)


@router.put(
    "/calendars/{name}",
    response_model=CalendarRead,
    responses={**PROBLEMS, 201: {"description": "Created", "model": CalendarRead}},
    tags=["calendars"],
)
async def put_calendar(
    name: Name,
    body: CalendarIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> Any:
    """Add a version (201 for a new name) and announce it as `stopclock.sla.calendar_updated.v1`."""
    read, created = await service.put_calendar(
        session,
        request.app.state.runtime.outbox,
        catalog_of(request),
        name,
        body.model_dump(exclude_none=True),
        utc_now(),
        topic=events_topic(request),
    )
    response.status_code = 201 if created else 200
    return read


# --- clocks -------------------------------------------------------------------------------


@router.get(
    "/tickets/{ticket_id}", response_model=TicketClocksRead, responses=PROBLEMS, tags=["clocks"]
)
async def get_ticket_clocks(
    ticket_id: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Any:
    """The ticket's clocks computed now: elapsed, paused and remaining business seconds."""
    timers: SlaTimers = request.app.state.runtime.extras["timers"]
    now = utc_now()
    return await service.read_clocks(
        session,
        catalog_of(request),
        principal,
        ticket_id,
        now,
        lambda partition: timers.horizon(partition, now),
    )


# --- reports ------------------------------------------------------------------------------


@router.get(
    "/reports/pauses",
    response_model=PauseReportRead,
    responses=PROBLEMS,
    tags=["reports"],
    summary="The pause audit over the resolution clocks started in [from, to)",
)
async def get_pause_report(
    request: Request,
    session: SessionDep,
    principal: Auditor,
    from_: Annotated[
        AwareDatetime | None,
        Query(alias="from", description="RFC 3339 with offset (default: 30 days before to)"),
    ] = None,
    to: Annotated[
        AwareDatetime | None, Query(description="RFC 3339 with offset (default: now)")
    ] = None,
    service_: Annotated[
        str | None, Query(alias="service", max_length=200, description="The ticket's service")
    ] = None,
) -> Any:
    """Paused share, time by reason and, per agent who set waits, the waits without a
    question and those the agent ended (docs/pause-audit.md). At most 366 days."""
    now = utc_now()
    start, end = pause_report.report_window(from_, to, now)
    return await pause_report.pause_report(session, catalog_of(request), start, end, service_, now)
