"""JSON routes of the survey service; thin: parse, authorize, call a use case, shape."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from stopclock_shared.auth import PrincipalDep, StaffDep
from stopclock_shared.db import SessionDep
from stopclock_shared.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    Page,
    decode_cursor,
    page_of,
)
from stopclock_shared.problems import ProblemError, field_error, problem_responses

from . import repository as repo
from . import service
from .schemas import StatsRead, SurveyRead

router = APIRouter(prefix="/api/v1", tags=["surveys"])
PROBLEMS = problem_responses(401, 403, 404, 422)


@router.get("/surveys", response_model=Page[SurveyRead], responses=PROBLEMS)
async def list_surveys(
    session: SessionDep,
    principal: PrincipalDep,
    ticket_id: str | None = None,
    requester_id: str | None = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Any:
    if not principal.is_staff:
        if requester_id not in (None, principal.sub):
            raise ProblemError(403, "Forbidden", "Requesters may only list their own surveys")
        requester_id = principal.sub
    tid = _uuid(ticket_id, "ticket_id") if ticket_id else None
    after = decode_cursor(cursor, uuid.UUID) if cursor else None
    rows = await repo.list_surveys(session, tid, requester_id, limit, after)
    return page_of(rows, limit, order="sent_at")


@router.get(
    "/surveys/stats",
    response_model=StatsRead,
    responses=PROBLEMS,
    summary="Sent, answered, response rate and CSAT of the surveys sent in [from, to)",
)
async def stats(
    session: SessionDep,
    principal: StaffDep,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    service_: Annotated[str | None, Query(alias="service", max_length=200)] = None,
) -> Any:
    if from_ is not None and to is not None and to <= from_:
        raise field_error("to", "must be after from")
    figures = await service.csat_stats(session, from_, to, service_)
    return asdict(figures)


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise field_error(field, "must be a uuid") from None
