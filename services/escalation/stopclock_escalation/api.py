"""HTTP routes of the escalation service; thin: parse, authorize, call a use case, shape."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from stopclock_shared import pagination
from stopclock_shared.auth import Principal, PrincipalDep, Role, StaffDep, require_roles
from stopclock_shared.db import SessionDep, utc_now
from stopclock_shared.errors import Forbidden
from stopclock_shared.openapi import documented
from stopclock_shared.pagination import Page
from stopclock_shared.problems import field_error
from stopclock_shared.runtime import settings_dependency
from stopclock_shared.unit_of_work import SqlUnitOfWork

from .domain.escalations import EscalationKind
from .domain.policy import policy_from_spec, policy_to_spec
from .repository import EscalationQuery, SqlEscalationRepository, unit_of_work
from .schemas import EscalationRead, PolicyIn, PolicyRead, ResponsivenessRead, TimersRead
from .settings import EscalationSettings
from .state import StateDep
from .use_cases import policies, reports
from .use_cases.policies import PolicyInForce

router = APIRouter(prefix="/api/v1")
PolicyWriter = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.MANAGER, Role.SERVICE))]
PolicyName = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][\w.-]*$")]
SettingsDep = Annotated[EscalationSettings, Depends(settings_dependency(EscalationSettings))]
KINDS = ", ".join(EscalationKind)


def _unit_of_work(request: Request, session: SessionDep) -> SqlUnitOfWork[SqlEscalationRepository]:
    return unit_of_work(session, request.app.state.runtime.outbox)


UowDep = Annotated[SqlUnitOfWork[SqlEscalationRepository], Depends(_unit_of_work)]


def _escalation_filter(
    ticket_id: str | None = None, kind: str | None = None
) -> tuple[uuid.UUID | None, EscalationKind | None]:
    """The query's filters, refused with the field to fix (a 422 problem) when malformed."""
    return (
        _ticket_id(ticket_id) if ticket_id else None,
        _kind(kind) if kind is not None else None,
    )


FilterDep = Annotated[tuple[uuid.UUID | None, EscalationKind | None], Depends(_escalation_filter)]


def _policy_read(found: PolicyInForce) -> dict[str, Any]:
    return {
        "name": found.policy.name,
        **policy_to_spec(found.policy),
        "builtin": found.builtin,
        "updated_at": found.updated_at,
    }


@router.get(
    "/escalation/policies",
    **documented(
        Page[PolicyRead],
        "policies",
        "Policies in the order they are tried, the built-in fallback last",
    ),
)
async def list_policies(
    principal: StaffDep, uow: UowDep, settings: SettingsDep, paging: pagination.PagingQuery
) -> dict[str, object]:
    found = await policies.list_policies(uow, settings.desk_manager_email)
    return pagination.page_of_list([_policy_read(p) for p in found], *paging)


_PUT = documented(
    PolicyRead,
    "policies",
    "Create or replace a policy (applies to tickets that start waiting afterwards)",
)
_PUT["responses"][201] = {"description": "Created", "model": PolicyRead}
_DELETE = documented(
    None,
    "policies",
    "Delete a stored policy (tickets already waiting keep it; the built-in one stays)",
    status_code=204,
)
_DELETE["responses"][404] = {"description": "No stored policy of that name"}


@router.put("/escalation/policies/{name}", **_PUT)
async def put_policy(
    name: PolicyName,
    body: PolicyIn,
    response: Response,
    uow: UowDep,
    settings: SettingsDep,
    principal: PolicyWriter,
) -> dict[str, object]:
    spec = {
        **body.model_dump(),
        "desk_manager_email": body.desk_manager_email or settings.desk_manager_email,
    }
    stored, created = await policies.put_policy(uow, policy_from_spec(name, spec), utc_now())
    response.status_code = 201 if created else 200
    return _policy_read(stored)


@router.delete("/escalation/policies/{name}", **_DELETE)
async def delete_policy(name: PolicyName, uow: UowDep, principal: PolicyWriter) -> Response:
    await policies.delete_policy(uow, name)
    return Response(status_code=204)


_ESCALATIONS = "Everything that happened to chase a ticket, oldest first"


@router.get("/escalations", **documented(Page[EscalationRead], "escalations", _ESCALATIONS))
async def list_escalations(
    principal: StaffDep, uow: UowDep, wanted: FilterDep, paging: pagination.PagingQuery
) -> dict[str, object]:
    query = EscalationQuery(*wanted, paging.limit, paging.after(int))
    entries = await reports.list_escalations(uow, query)
    return pagination.page_of([asdict(e) for e in entries], paging.limit, key="seq")


@router.get(
    "/people/{person_id}/responsiveness",
    **documented(
        ResponsivenessRead, "responsiveness", "How a person answers when the desk waits on them"
    ),
)
async def get_responsiveness(
    person_id: Annotated[str, Path(min_length=1, max_length=200)],
    uow: UowDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> dict[str, object]:
    if principal.sub != person_id and not principal.is_staff:
        raise Forbidden("Requesters may only read their own register")
    figures = await reports.person_responsiveness(
        uow,
        person_id,
        utc_now(),
        settings.responsiveness_window_days,
        settings.responsiveness_min_unanswered,
    )
    return {
        "person_id": person_id,
        **asdict(figures),
        "window_days": settings.responsiveness_window_days,
    }


@router.get(
    "/escalation/timers",
    **documented(
        TimersRead,
        "ops",
        "The partitions and timers this replica owns (operations and fail-over checks)",
    ),
)
async def timers(state: StateDep, principal: StaffDep) -> dict[str, object]:
    return {"partitions": sorted(state.timers.owned), "scheduled": len(state.timers.wheel)}


def _ticket_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise field_error("ticket_id", "must be a ticket id (uuid)") from None


def _kind(value: str) -> EscalationKind:
    try:
        return EscalationKind(value)
    except ValueError:
        raise field_error("kind", f"must be one of {KINDS}") from None
