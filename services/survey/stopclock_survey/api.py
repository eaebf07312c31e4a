"""JSON routes of the survey service; HTTP only: parse, call a use case, shape the answer."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from stopclock_shared import pagination
from stopclock_shared.auth import PrincipalDep, StaffDep
from stopclock_shared.openapi import documented
from stopclock_shared.problems import field_error

from .dependencies import UnitOfWorkDep
from .repository import SurveyQuery, SurveyRecord
from .schemas import StatsRead, SurveyRead
from .use_cases import surveys

router = APIRouter(prefix="/api/v1")
PROBLEMS = (401, 403, 404, 422)


@dataclass(frozen=True)
class SurveyListing:
    """The query parameters of the list: which surveys, how many, after which."""

    ticket_id: str | None = None
    requester_id: str | None = None
    limit: pagination.LimitQuery = pagination.DEFAULT_LIMIT
    cursor: pagination.CursorQuery = None


@router.get(
    "/surveys",
    **documented(
        pagination.Page[SurveyRead], "surveys", "Surveys in the order sent", problems=PROBLEMS
    ),
)
async def list_surveys(
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    asked: Annotated[SurveyListing, Depends()],
) -> dict[str, object]:
    query = SurveyQuery(
        ticket_id=_uuid(asked.ticket_id, "ticket_id") if asked.ticket_id else None,
        requester_id=asked.requester_id,
        limit=asked.limit,
        after=pagination.decode_cursor(asked.cursor, uuid.UUID) if asked.cursor else None,
    )
    found = await surveys.list_surveys(uow, principal, query)
    return pagination.page_of([_read(record) for record in found], asked.limit, order="sent_at")


@router.get(
    "/surveys/stats",
    **documented(
        StatsRead,
        "surveys",
        "Sent, answered, response rate and CSAT of the surveys sent in [from, to)",
        problems=PROBLEMS,
    ),
)
async def stats(
    uow: UnitOfWorkDep,
    _: StaffDep,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    service: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, object]:
    if from_ is not None and to is not None and to <= from_:
        raise field_error("to", "must be after from")
    return asdict(await surveys.csat_stats(uow, from_, to, service))


def _read(record: SurveyRecord) -> dict[str, object]:
    """The fields of ``SurveyRead`` (keyed, for the page's cursor)."""
    survey = record.survey
    return {
        **asdict(survey),
        "id": uuid.UUID(survey.id),
        "ticket_id": uuid.UUID(survey.ticket_id),
        "status": survey.status.value,
        "service": record.service,
    }


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise field_error(field, "must be a uuid") from None
