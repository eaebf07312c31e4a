"""HTTP routes of the ticket service; thin: parse, authorize, call a use case, shape."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel

from stopclock_shared.auth import Principal, PrincipalDep, Role, StaffDep, require_roles
from stopclock_shared.db import SessionDep, utc_now
from stopclock_shared.idempotency import IdempotencyStore, request_hash
from stopclock_shared.outbox import Outbox
from stopclock_shared.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    Page,
    decode_cursor,
    page_of,
)
from stopclock_shared.problems import ProblemError, not_found, problem_responses

from . import repository as repo
from . import service
from .models import idempotency_keys
from .schemas import (
    CommentIn,
    CommentRead,
    HistoryRead,
    OutageIn,
    OutageMessageIn,
    OutageRead,
    PersonIn,
    PersonRead,
    SubscriptionRead,
    TicketCreate,
    TicketRead,
    TicketUpdate,
    TransitionIn,
)

router = APIRouter(prefix="/api/v1")
idempotency = IdempotencyStore(idempotency_keys)
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
# Path ids are bounded like the columns that hold them.
PersonId = Annotated[str, Path(min_length=1, max_length=200)]
ServiceName = Annotated[str, Path(min_length=1, max_length=200)]
PeopleWriter = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SERVICE))]
PROBLEMS = problem_responses()


def outbox_of(request: Request) -> Outbox:
    outbox: Outbox = request.app.state.runtime.outbox
    return outbox


def parse_id(value: str, what: str = "Ticket") -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise not_found(what, value) from None


def json_response(data: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


async def idempotent_create(
    session: Any,
    key: str | None,
    principal: Principal,
    route: str,
    body: BaseModel,
    create: Any,
) -> Response:
    """Run ``create`` once per Idempotency-Key; a retry with the same body gets the first answer."""
    if not key:
        return json_response(await create(), 201)
    digest = request_hash(body.model_dump(mode="json"))
    found = await idempotency.lookup(session, key, principal.sub, route, digest)
    if found is not None:
        status, stored = found
        return json_response(stored, status, {"Idempotent-Replayed": "true"})
    result = await create()
    await idempotency.store(session, key, principal.sub, route, digest, 201, result)
    return json_response(result, 201)


# --- people -----------------------------------------------------------------------------


@router.put(
    "/people/{person_id}",
    response_model=PersonRead,
    responses={**PROBLEMS, 201: {"description": "Created", "model": PersonRead}},
    tags=["people"],
)
async def put_person(
    person_id: PersonId,
    body: PersonIn,
    session: SessionDep,
    principal: PeopleWriter,
    request: Request,
    response: Response,
) -> Any:
    person, created = await service.put_person(
        session, outbox_of(request), person_id, body, utc_now()
    )
    response.status_code = 201 if created else 200
    return person


@router.get("/people/{person_id}", response_model=PersonRead, responses=PROBLEMS, tags=["people"])
async def get_person(person_id: PersonId, session: SessionDep, principal: PrincipalDep) -> Any:
    return await service.get_person(session, principal, person_id)


# --- tickets ----------------------------------------------------------------------------


@router.post(
    "/tickets", status_code=201, response_model=TicketRead, responses=PROBLEMS, tags=["tickets"]
)
async def create_ticket(
    body: TicketCreate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    async def create() -> dict[str, Any]:
        ticket = await service.create_ticket(
            session, outbox_of(request), principal, body, utc_now()
        )
        return TicketRead.model_validate(ticket).model_dump(mode="json")

    return await idempotent_create(
        session, idempotency_key, principal, "POST /tickets", body, create
    )


@router.get("/tickets", response_model=Page[TicketRead], responses=PROBLEMS, tags=["tickets"])
async def list_tickets(
    session: SessionDep,
    principal: PrincipalDep,
    status: str | None = None,
    requester_id: str | None = None,
    assignee_id: str | None = None,
    priority: str | None = None,
    service_: Annotated[str | None, Query(alias="service")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Any:
    if not principal.is_staff:
        if requester_id not in (None, principal.sub):
            raise ProblemError(403, "Forbidden", "Requesters may only list their own tickets")
        requester_id = principal.sub
    filters = {
        "status": status,
        "requester_id": requester_id,
        "assignee_id": assignee_id,
        "priority": priority,
        "service": service_,
    }
    rows = await repo.list_tickets(
        session, filters, limit, decode_cursor(cursor, uuid.UUID) if cursor else None
    )
    return page_of(rows, limit)


@router.get("/tickets/{ticket_id}", response_model=TicketRead, responses=PROBLEMS, tags=["tickets"])
async def get_ticket(ticket_id: str, session: SessionDep, principal: PrincipalDep) -> Any:
    return await service.visible_ticket(session, principal, parse_id(ticket_id))


@router.patch(
    "/tickets/{ticket_id}", response_model=TicketRead, responses=PROBLEMS, tags=["tickets"]
)
async def update_ticket(
    ticket_id: str,
    body: TicketUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Any:
    return await service.update_ticket(
        session, outbox_of(request), principal, parse_id(ticket_id), body, utc_now()
    )


@router.post(
    "/tickets/{ticket_id}/transitions",
    response_model=TicketRead,
    responses=PROBLEMS,
    tags=["tickets"],
    summary="Change the status (409 lists the allowed transitions)",
)
async def transition(
    ticket_id: str,
    body: TransitionIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Any:
    return await service.change_status(
        session, outbox_of(request), principal, parse_id(ticket_id), body, utc_now()
    )


@router.post(
    "/tickets/{ticket_id}/comments",
    status_code=201,
    response_model=CommentRead,
    responses=PROBLEMS,
    tags=["tickets"],
)
async def add_comment(
    ticket_id: str,
    body: CommentIn,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    tid = parse_id(ticket_id)

    async def create() -> dict[str, Any]:
        comment = await service.add_comment(
            session, outbox_of(request), principal, tid, body, utc_now()
        )
        return CommentRead.model_validate(comment).model_dump(mode="json")

    return await idempotent_create(
        session,
        idempotency_key,
        principal,
        f"POST /tickets/{tid}/comments",
        body,
        create,
    )


@router.get(
    "/tickets/{ticket_id}/comments",
    response_model=Page[CommentRead],
    responses=PROBLEMS,
    tags=["tickets"],
)
async def list_comments(
    ticket_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Any:
    rows = await service.list_comments(
        session,
        principal,
        parse_id(ticket_id),
        limit,
        decode_cursor(cursor, uuid.UUID) if cursor else None,
    )
    return page_of(rows, limit)


@router.get(
    "/tickets/{ticket_id}/history",
    response_model=Page[HistoryRead],
    responses=PROBLEMS,
    tags=["tickets"],
    summary="Every change: who, what, when",
)
async def history(ticket_id: str, session: SessionDep, principal: PrincipalDep) -> Any:
    rows = await service.list_history(session, principal, parse_id(ticket_id))
    return {"items": rows, "next_cursor": None}


# --- outages ----------------------------------------------------------------------------


async def outage_read(session: Any, outage: Any, notified: int) -> dict[str, Any]:
    updates = await repo.list_outage_updates(session, outage["id"])
    return OutageRead.model_validate(
        {**outage, "subscribers_notified": notified, "updates": updates}
    ).model_dump(mode="json")


@router.post(
    "/outages", status_code=201, response_model=OutageRead, responses=PROBLEMS, tags=["outages"]
)
async def declare_outage(
    body: OutageIn,
    request: Request,
    session: SessionDep,
    principal: StaffDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    async def create() -> dict[str, Any]:
        outage, notified = await service.declare_outage(
            session, outbox_of(request), body, utc_now()
        )
        return await outage_read(session, outage, notified)

    return await idempotent_create(
        session, idempotency_key, principal, "POST /outages", body, create
    )


@router.get("/outages/{outage_id}", response_model=OutageRead, responses=PROBLEMS, tags=["outages"])
async def get_outage(outage_id: str, session: SessionDep, principal: PrincipalDep) -> Any:
    outage = await repo.get_outage(session, parse_id(outage_id, "Outage"))
    if outage is None:
        raise not_found("Outage", outage_id)
    subs = await repo.subscribers_of(session, outage["service"])
    return await outage_read(session, outage, len(subs))


@router.post(
    "/outages/{outage_id}/updates",
    status_code=201,
    response_model=OutageRead,
    responses=PROBLEMS,
    tags=["outages"],
)
async def outage_update(
    outage_id: str,
    body: OutageMessageIn,
    request: Request,
    session: SessionDep,
    principal: StaffDep,
) -> Any:
    outage, notified = await service.outage_message(
        session,
        outbox_of(request),
        parse_id(outage_id, "Outage"),
        body.message,
        utc_now(),
        resolve=False,
    )
    return await outage_read(session, outage, notified)


@router.post(
    "/outages/{outage_id}/resolve", response_model=OutageRead, responses=PROBLEMS, tags=["outages"]
)
async def resolve_outage(
    outage_id: str,
    body: OutageMessageIn,
    request: Request,
    session: SessionDep,
    principal: StaffDep,
) -> Any:
    outage, notified = await service.outage_message(
        session,
        outbox_of(request),
        parse_id(outage_id, "Outage"),
        body.message,
        utc_now(),
        resolve=True,
    )
    return await outage_read(session, outage, notified)


@router.put(
    "/services/{service_name}/subscribers/{person_id}",
    response_model=SubscriptionRead,
    responses=PROBLEMS,
    tags=["outages"],
)
async def subscribe(
    service_name: ServiceName, person_id: PersonId, session: SessionDep, principal: PrincipalDep
) -> Any:
    return await service.subscribe(session, principal, service_name, person_id, utc_now())
