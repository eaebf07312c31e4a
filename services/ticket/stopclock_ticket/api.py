"""HTTP routes of the ticket service, and nothing else: parse, call a use case, shape the
answer. Refusals raised by use cases are mapped to problems centrally (``problems.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel

from stopclock_shared.auth import Principal, PrincipalDep, Role, StaffDep, require_roles
from stopclock_shared.db import SessionDep, utc_now
from stopclock_shared.errors import NotFound
from stopclock_shared.idempotency import IdempotencyStore, request_hash
from stopclock_shared.openapi import documented
from stopclock_shared.pagination import Page, PagingQuery, page_of
from stopclock_shared.problems import problem_responses
from stopclock_shared.runtime import Runtime
from stopclock_shared.unit_of_work import SqlUnitOfWork

from . import use_cases
from .models import idempotency_keys
from .records import PersonRecord, SubscriptionRecord, TicketRecord
from .repository import SqlTicketRepository
from .schemas import (
    OUTAGE_READ,
    TICKET_READ,
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
    TicketFilters,
    TicketRead,
    TicketUpdate,
    TransitionIn,
    read_json,
)

router = APIRouter(prefix="/api/v1")
idempotency = IdempotencyStore(idempotency_keys)
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
# Path ids are bounded like the columns that hold them.
PersonId = Annotated[str, Path(min_length=1, max_length=200)]
ServiceName = Annotated[str, Path(min_length=1, max_length=200)]
PeopleWriter = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SERVICE))]
# Every route may answer these problems (the shared layer adds 400, 413 and 503).
PROBLEMS = (401, 403, 404, 409, 422)
doc = partial(documented, problems=PROBLEMS)
TicketUow = SqlUnitOfWork[SqlTicketRepository]


async def unit_of_work(request: Request, session: SessionDep) -> TicketUow:
    """The request's unit of work: its session, the service's outbox and SQL repository
    (async: a plain function would be run in a worker thread, on every request)."""
    runtime: Runtime = request.app.state.runtime
    return SqlUnitOfWork(session, runtime.outbox, SqlTicketRepository(session, runtime.outbox))


UowDep = Annotated[TicketUow, Depends(unit_of_work)]


def parse_id(value: str, what: str = "Ticket") -> uuid.UUID:
    """A path id; one that is not a uuid names nothing (404, as an unknown one)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(what, value) from None


def _ticket_id(ticket_id: str) -> uuid.UUID:
    return parse_id(ticket_id)


# The ticket a path names, parsed once for every ticket route.
TicketId = Annotated[uuid.UUID, Depends(_ticket_id)]


def json_response(data: object, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


async def idempotent_create(
    uow: TicketUow,
    key: str | None,
    principal: Principal,
    route: str,
    body: BaseModel,
    create: Callable[[], Awaitable[dict[str, Any]]],
) -> Response:
    """Run ``create`` once per Idempotency-Key; a retry with the same body gets the first answer."""
    if not key:
        return json_response(await create(), 201)
    digest = request_hash(body.model_dump(mode="json"))
    found = await idempotency.lookup(uow.session, key, principal.sub, route, digest)
    if found is not None:
        status, stored = found
        return json_response(stored, status, {"Idempotent-Replayed": "true"})
    result = await create()
    await idempotency.store(uow.session, key, principal.sub, route, digest, 201, result)
    return json_response(result, 201)


# --- people -----------------------------------------------------------------------------


@router.put(
    "/people/{person_id}",
    **doc(
        PersonRead,
        "people",
        "Create or replace a person (201 when created)",
        responses={
            **problem_responses(*PROBLEMS),
            201: {"description": "Created", "model": PersonRead},
        },
    ),
)
async def put_person(
    person_id: PersonId, body: PersonIn, uow: UowDep, principal: PeopleWriter, response: Response
) -> PersonRecord:
    person, created = await use_cases.put_person(uow, person_id, body, utc_now())
    response.status_code = 201 if created else 200
    return person


@router.get("/people/{person_id}", **doc(PersonRead, "people", "A person"))
async def get_person(person_id: PersonId, uow: UowDep, principal: PrincipalDep) -> PersonRecord:
    return await use_cases.get_person(uow, principal, person_id)


# --- tickets ----------------------------------------------------------------------------


@router.post("/tickets", status_code=201, **doc(TicketRead, "tickets", "Open a ticket"))
async def create_ticket(
    body: TicketCreate, uow: UowDep, principal: PrincipalDep, idempotency_key: IdempotencyKey = None
) -> Response:
    async def create() -> dict[str, Any]:
        ticket = await use_cases.open_ticket(uow, principal, body, utc_now())
        return read_json(TICKET_READ, ticket)

    return await idempotent_create(uow, idempotency_key, principal, "POST /tickets", body, create)


@router.get("/tickets", **doc(Page[TicketRead], "tickets", "List tickets"))
async def list_tickets(
    filters: Annotated[TicketFilters, Query()],
    uow: UowDep,
    principal: PrincipalDep,
    paging: PagingQuery,
) -> dict[str, object]:
    rows = await use_cases.list_tickets(
        uow, principal, filters, paging.limit, paging.after(uuid.UUID)
    )
    return page_of(rows, paging.limit)


@router.get("/tickets/{ticket_id}", **doc(TicketRead, "tickets", "A ticket"))
async def get_ticket(ticket_id: TicketId, uow: UowDep, principal: PrincipalDep) -> TicketRecord:
    return await use_cases.visible_ticket(uow, principal, ticket_id)


@router.patch(
    "/tickets/{ticket_id}", **doc(TicketRead, "tickets", "Edit a ticket (the fields sent)")
)
async def update_ticket(
    ticket_id: TicketId, body: TicketUpdate, uow: UowDep, who: PrincipalDep
) -> TicketRecord:
    return await use_cases.update_ticket(uow, who, ticket_id, body, utc_now())


@router.post("/tickets/{ticket_id}/transitions", **doc(TicketRead, "tickets", "Change the status"))
async def transition(
    ticket_id: TicketId, body: TransitionIn, uow: UowDep, who: PrincipalDep
) -> TicketRecord:
    """A status the ticket cannot move to from its current one is a 409 problem whose
    `allowed` lists the statuses it can move to."""
    return await use_cases.change_status(uow, who, ticket_id, body, utc_now())


@router.post(
    "/tickets/{ticket_id}/comments",
    status_code=201,
    **doc(CommentRead, "tickets", "Comment on a ticket"),
)
async def add_comment(
    ticket_id: TicketId,
    body: CommentIn,
    uow: UowDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:

    async def create() -> dict[str, Any]:
        comment = await use_cases.add_comment(uow, principal, ticket_id, body, utc_now())
        return CommentRead.model_validate(comment).model_dump(mode="json")

    route = f"POST /tickets/{ticket_id}/comments"
    return await idempotent_create(uow, idempotency_key, principal, route, body, create)


@router.get(
    "/tickets/{ticket_id}/comments",
    **doc(Page[CommentRead], "tickets", "A ticket's comments (requesters never see internal ones)"),
)
async def list_comments(
    ticket_id: TicketId, uow: UowDep, principal: PrincipalDep, paging: PagingQuery
) -> dict[str, object]:
    rows = await use_cases.list_comments(
        uow, principal, ticket_id, paging.limit, paging.after(uuid.UUID)
    )
    return page_of(rows, paging.limit)


@router.get(
    "/tickets/{ticket_id}/history",
    **doc(Page[HistoryRead], "tickets", "Every change: who, what, when"),
)
async def history(ticket_id: TicketId, uow: UowDep, principal: PrincipalDep) -> dict[str, object]:
    rows = await use_cases.list_history(uow, principal, ticket_id)
    return {"items": rows, "next_cursor": None}


# --- outages ----------------------------------------------------------------------------


def outage_read(view: use_cases.OutageView) -> dict[str, Any]:
    outage = {**view.outage, "subscribers_notified": view.notified, "updates": view.updates}
    return read_json(OUTAGE_READ, outage)


@router.post(
    "/outages",
    status_code=201,
    **doc(OutageRead, "outages", "Declare an outage (its subscribers are told)"),
)
async def declare_outage(
    body: OutageIn, uow: UowDep, principal: StaffDep, idempotency_key: IdempotencyKey = None
) -> Response:
    async def create() -> dict[str, Any]:
        return outage_read(await use_cases.declare_outage(uow, body, utc_now()))

    return await idempotent_create(uow, idempotency_key, principal, "POST /outages", body, create)


@router.get("/outages/{outage_id}", **doc(OutageRead, "outages", "An outage"))
async def get_outage(outage_id: str, uow: UowDep, principal: PrincipalDep) -> dict[str, Any]:
    return outage_read(await use_cases.read_outage(uow, parse_id(outage_id, "Outage")))


OutageChange = Callable[[TicketUow, uuid.UUID, str, datetime], Awaitable[use_cases.OutageView]]


def outage_message(change: OutageChange) -> Callable[..., Awaitable[dict[str, Any]]]:
    """The route of a message about an outage: an update, or its resolution."""

    async def route(
        outage_id: str, body: OutageMessageIn, uow: UowDep, principal: StaffDep
    ) -> dict[str, Any]:
        oid = parse_id(outage_id, "Outage")
        return outage_read(await change(uow, oid, body.message, utc_now()))

    return route


router.post(
    "/outages/{outage_id}/updates",
    status_code=201,
    name="outage_update",
    **doc(OutageRead, "outages", "Post an update to the subscribers"),
)(outage_message(use_cases.update_outage))
router.post(
    "/outages/{outage_id}/resolve",
    name="resolve_outage",
    **doc(OutageRead, "outages", "Resolve an outage"),
)(outage_message(use_cases.resolve_outage))


@router.put(
    "/services/{service_name}/subscribers/{person_id}",
    **doc(SubscriptionRead, "outages", "Subscribe a person to a service's outages"),
)
async def subscribe(
    service_name: ServiceName, person_id: PersonId, uow: UowDep, principal: PrincipalDep
) -> SubscriptionRecord:
    return await use_cases.subscribe(uow, principal, service_name, person_id, utc_now())
