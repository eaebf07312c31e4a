"""HTTP routes of the sla service, and nothing else: parse, call a use case, shape the
answer. Refusals raised by use cases are mapped to problems centrally (`problems.py`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel

from stopclock_shared.auth import Principal, PrincipalDep, Role, require_roles
from stopclock_shared.db import SessionDep, utc_now
from stopclock_shared.openapi import documented
from stopclock_shared.pagination import Page, PagingQuery, encode_key_cursor
from stopclock_shared.problems import problem_responses
from stopclock_shared.runtime import Runtime, settings_dependency
from stopclock_shared.unit_of_work import SqlUnitOfWork
from stopclock_sla.domain.defaults import ALWAYS_NAME

from . import use_cases
from .repository import Kind, SqlSlaRepository, StoredVersion, unit_of_work
from .schemas import (
    CalendarIn,
    CalendarRead,
    PauseReportRead,
    PolicyIn,
    PolicyRead,
    TicketClocksRead,
)
from .settings import SlaSettings
from .state import StateDep

router = APIRouter(prefix="/api/v1/sla")
Writer = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.MANAGER))]
# Checked here too, so that a refusal comes before any query parsing (as every route's).
Auditor = Annotated[Principal, Depends(require_roles(*use_cases.AUDITORS))]
Name = Annotated[str, Path(min_length=1, max_length=100)]
VersionQuery = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="A past version (default: current)")
]
READ = (401, 404, 422)
WRITE = (401, 403, 422)
SlaUow = SqlUnitOfWork[SqlSlaRepository]


def request_unit_of_work(request: Request, session: SessionDep) -> SlaUow:
    """The request's unit of work: its session, the service's outbox and SQL repository."""
    runtime: Runtime = request.app.state.runtime
    return unit_of_work(session, runtime.outbox)


UowDep = Annotated[SlaUow, Depends(request_unit_of_work)]
SettingsDep = Annotated[SlaSettings, Depends(settings_dependency(SlaSettings))]


def created_or_replaced(
    model: type[BaseModel], tag: str, summary: str, problems: tuple[int, ...]
) -> dict[str, Any]:
    """A `PUT` that answers 201 for a new name, 200 for a new version."""
    responses = {**problem_responses(*problems), 201: {"description": "Created", "model": model}}
    return documented(model, tag, summary, responses=responses)


def policy_read(stored: StoredVersion) -> dict[str, Any]:
    """The API form of a stored policy version."""
    return {
        "name": stored.name,
        "version": stored.version,
        **stored.spec,
        "updated_at": stored.created_at,
    }


def calendar_read(stored: StoredVersion) -> dict[str, Any]:
    """The API form of a stored calendar version."""
    return {**policy_read(stored), "builtin": stored.name == ALWAYS_NAME}


def page(
    listing: use_cases.Listing, shape: Callable[[StoredVersion], dict[str, Any]]
) -> dict[str, Any]:
    items = [shape(v) for v in listing.items]
    last = listing.items[-1].name if listing.more and listing.items else None
    return {"items": items, "next_cursor": None if last is None else encode_key_cursor(last)}


def versioned_reads(
    kind: Kind, what: str, model: type[BaseModel], shape: Callable[[StoredVersion], dict[str, Any]]
) -> None:
    """`GET /{kind}` (current versions by name) and `GET /{kind}/{name}` (?version=)."""

    async def list_current(
        uow: UowDep, principal: PrincipalDep, paging: PagingQuery
    ) -> dict[str, Any]:
        current = await use_cases.list_current(uow, kind, paging.after_name(), paging.limit)
        return page(current, shape)

    async def get_version(
        name: Name, uow: UowDep, principal: PrincipalDep, version: VersionQuery = None
    ) -> dict[str, Any]:
        return shape(await use_cases.get_version(uow, kind, name, version))

    summary = f"The current {kind} by name (each shows its version and what it says)"
    router.add_api_route(
        f"/{kind}",
        list_current,
        methods=["GET"],
        name=f"list_{kind}",
        **documented(Page[model], kind, summary, problems=READ),  # type: ignore[valid-type]
    )
    router.add_api_route(
        f"/{kind}/{{name}}",
        get_version,
        methods=["GET"],
        name=f"get_{what}",
        **documented(model, kind, f"A {what} version (default: the current one)", problems=READ),
    )


versioned_reads("policies", "policy", PolicyRead, policy_read)
versioned_reads("calendars", "calendar", CalendarRead, calendar_read)


# --- writes -------------------------------------------------------------------------------


@router.put(
    "/policies/{name}",
    **created_or_replaced(PolicyRead, "policies", "Add a policy version", WRITE),
)
async def put_policy(
    name: Name, body: PolicyIn, response: Response, uow: UowDep, state: StateDep, principal: Writer
) -> dict[str, Any]:
    """Add a version (201 for a new name); it applies to tickets that start after it."""
    spec = body.model_dump(exclude_none=True)
    written = await use_cases.put_policy(uow, state.cache, name, spec, utc_now())
    response.status_code = 201 if written.created else 200
    return policy_read(written.version)


@router.put(
    "/calendars/{name}",
    **created_or_replaced(CalendarRead, "calendars", "Add a calendar version", (*WRITE, 409)),
)
async def put_calendar(
    name: Name,
    body: CalendarIn,
    response: Response,
    uow: UowDep,
    state: StateDep,
    principal: Writer,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Add a version (201 for a new name) and announce it as `stopclock.sla.calendar_updated.v1`;
    the built-in 24x7 calendar cannot be replaced (409)."""
    spec = body.model_dump(exclude_none=True)
    written = await use_cases.put_calendar(
        uow, state.cache, name, spec, utc_now(), topic=settings.events_topic
    )
    response.status_code = 201 if written.created else 200
    return calendar_read(written.version)


# --- clocks -------------------------------------------------------------------------------


@router.get(
    "/tickets/{ticket_id}",
    **documented(TicketClocksRead, "clocks", "A ticket's clocks", problems=(401, 403, 404, 422)),
)
async def get_ticket_clocks(
    ticket_id: str, uow: UowDep, state: StateDep, principal: PrincipalDep
) -> dict[str, object]:
    """The ticket's clocks computed now: elapsed, paused and remaining business seconds."""
    now = utc_now()
    return await use_cases.read_clocks(
        uow,
        state.cache,
        principal,
        ticket_id,
        now,
        lambda partition: state.timers.horizon(partition, now),
    )


# --- reports ------------------------------------------------------------------------------


@router.get(
    "/reports/pauses",
    **documented(
        PauseReportRead,
        "reports",
        "The pause audit over the resolution clocks started in [from, to)",
        problems=WRITE,
    ),
)
async def get_pause_report(
    uow: UowDep,
    state: StateDep,
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
) -> dict[str, object]:
    """Paused share, time by reason and, per agent who set waits, the waits without a
    question and those the agent ended (docs/pause-audit.md). At most 366 days."""
    return await use_cases.pause_report(uow, state.cache, principal, from_, to, service_, utc_now())
