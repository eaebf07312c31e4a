"""HTTP routes of the escalation service; thin: parse, authorize, call a use case, shape."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from stopclock_shared.auth import Principal, PrincipalDep, Role, StaffDep, require_roles
from stopclock_shared.db import SessionDep, utc_now
from stopclock_shared.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    Page,
    decode_cursor,
    page_of,
    page_of_list,
)
from stopclock_shared.problems import ProblemError, field_error, not_found, problem_responses

from . import repository as repo
from . import service
from .ladder_timers import LadderTimers
from .schemas import EscalationRead, PolicyIn, PolicyRead, ResponsivenessRead, TimersRead
from .settings import EscalationSettings

router = APIRouter(prefix="/api/v1")
PolicyWriter = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.MANAGER, Role.SERVICE))]
PolicyName = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][\w.-]*$")]
PROBLEMS = problem_responses(401, 403, 422)
KINDS = (
    "reminder",
    "manager_escalation",
    "auto_resolve",
    "sla_warning",
    "sla_breach",
    "negative_feedback",
)


def settings_of(request: Request) -> EscalationSettings:
    settings: EscalationSettings = request.app.state.settings
    return settings


@router.get(
    "/escalation/policies",
    response_model=Page[PolicyRead],
    responses=PROBLEMS,
    tags=["policies"],
    summary="Policies in the order they are tried, the built-in fallback last",
)
async def list_policies(
    request: Request,
    session: SessionDep,
    principal: StaffDep,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Any:
    items = await service.list_policies(session, settings_of(request).desk_manager_email)
    return page_of_list(items, limit, cursor)


@router.put(
    "/escalation/policies/{name}",
    response_model=PolicyRead,
    responses={**PROBLEMS, 201: {"description": "Created", "model": PolicyRead}},
    tags=["policies"],
    summary="Create or replace a policy (applies to tickets that start waiting afterwards)",
)
async def put_policy(
    name: PolicyName,
    body: PolicyIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PolicyWriter,
) -> Any:
    policy, created = await service.put_policy(
        session, name, body, settings_of(request).desk_manager_email, utc_now()
    )
    response.status_code = 201 if created else 200
    return policy


@router.delete(
    "/escalation/policies/{name}",
    status_code=204,
    responses={**PROBLEMS, 404: {"description": "No stored policy of that name"}},
    tags=["policies"],
    summary="Delete a stored policy (tickets already waiting keep it; the built-in one stays)",
)
async def delete_policy(name: PolicyName, session: SessionDep, principal: PolicyWriter) -> Response:
    if not await repo.delete_policy(session, name):
        raise not_found("Stored policy", name)
    return Response(status_code=204)


@router.get(
    "/escalations",
    response_model=Page[EscalationRead],
    responses=PROBLEMS,
    tags=["escalations"],
    summary="Everything that happened to chase a ticket, oldest first",
)
async def list_escalations(
    session: SessionDep,
    principal: StaffDep,
    ticket_id: str | None = None,
    kind: str | None = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Any:
    tid = _ticket_id(ticket_id) if ticket_id else None
    if kind is not None and kind not in KINDS:
        raise field_error("kind", f"must be one of {', '.join(KINDS)}")
    after = decode_cursor(cursor, int) if cursor else None
    rows = await repo.list_escalations(session, tid, kind, limit, after)
    return page_of(rows, limit, key="seq")


@router.get(
    "/people/{person_id}/responsiveness",
    response_model=ResponsivenessRead,
    responses=PROBLEMS,
    tags=["responsiveness"],
    summary="How a person answers when the desk waits on them",
)
async def get_responsiveness(
    person_id: Annotated[str, Path(min_length=1, max_length=200)],
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Any:
    if not principal.is_staff and principal.sub != person_id:
        raise ProblemError(403, "Forbidden", "Requesters may only read their own register")
    settings = settings_of(request)
    figures = await service.person_responsiveness(
        session,
        person_id,
        utc_now(),
        settings.responsiveness_window_days,
        settings.responsiveness_min_unanswered,
    )
    return {
        "person_id": person_id,
        "waiting_episodes": figures.waiting_episodes,
        "answered": figures.answered,
        "unanswered_episodes": figures.unanswered_episodes,
        "away_episodes": figures.away_episodes,
        "median_response_seconds": figures.median_response_seconds,
        "frequently_unresponsive": figures.frequently_unresponsive,
        "open": figures.open,
        "withdrawn": figures.withdrawn,
        "away_unanswered": figures.away_unanswered,
        "window_days": settings.responsiveness_window_days,
    }


@router.get(
    "/escalation/timers",
    response_model=TimersRead,
    responses=PROBLEMS,
    tags=["ops"],
    summary="The partitions and timers this replica owns (operations and fail-over checks)",
)
async def timers(request: Request, principal: StaffDep) -> Any:
    owner: LadderTimers = request.app.state.runtime.extras["timers"]
    return {"partitions": sorted(owner.owned), "scheduled": len(owner.wheel)}


def _ticket_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise field_error("ticket_id", "must be a ticket id (uuid)") from None
