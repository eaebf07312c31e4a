"""HTTP routes of the notification service; thin: parse, authorize, call a use case, shape."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter

from stopclock_shared.auth import PrincipalDep
from stopclock_shared.db import SessionDep, utc_now
from stopclock_shared.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    Page,
    decode_cursor,
    page_of,
)
from stopclock_shared.problems import problem_responses

from . import inbound, service
from .domain import MANDATORY_KINDS, OPTIONAL_KINDS
from .schemas import (
    InboundRead,
    NotificationRead,
    NotificationStatus,
    PreferencesIn,
    PreferencesRead,
)

router = APIRouter(prefix="/api/v1")
PROBLEMS = problem_responses(401, 403, 422)
KINDS_DOC = (
    f"Optional kinds (may be opted out): {', '.join(sorted(OPTIONAL_KINDS))}. "
    f"Mandatory kinds (422 if listed): {', '.join(sorted(MANDATORY_KINDS))}."
)


@router.get(
    "/notifications",
    response_model=Page[NotificationRead],
    responses=PROBLEMS,
    tags=["notifications"],
    summary="The outgoing mail log",
    description=(
        "Mails in the order they were recorded. `recipient` matches the address "
        "(case-insensitively) or the person id. Staff (agent, manager, admin, service) see "
        "every mail; a requester sees only the mails addressed to their own person id."
    ),
)
async def list_notifications(
    session: SessionDep,
    principal: PrincipalDep,
    ticket_id: str | None = None,
    recipient: str | None = None,
    status: NotificationStatus | None = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Any:
    rows = await service.list_notifications(
        session,
        principal,
        ticket_id=ticket_id,
        recipient=recipient,
        status=status,
        limit=limit,
        after=after_of(cursor),
    )
    return page_of(rows, limit)


@router.get(
    "/inbound",
    response_model=Page[InboundRead],
    responses=PROBLEMS,
    tags=["inbound"],
    summary="Mails to the desk and what each did",
    description=(
        "Every mail taken in (SMTP or IMAP), in the order received, with its `outcome`: "
        "`comment` (the requester's answer), `internal_comment` (another sender), "
        "`new_ticket`, `auto_reply`, `bounce` or `rejected` (`detail` says why). `sender` "
        "matches the address case-insensitively. Staff only (requesters: 403)."
    ),
)
async def list_inbound(
    session: SessionDep,
    principal: PrincipalDep,
    ticket_id: str | None = None,
    sender: str | None = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Any:
    rows = await inbound.list_inbound(
        session, principal, ticket_id=ticket_id, sender=sender, limit=limit, after=after_of(cursor)
    )
    return page_of(rows, limit, order="received_at")


def after_of(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The position a cursor stands for; 422 for anything but one of our own cursors."""
    return decode_cursor(cursor, uuid.UUID) if cursor else None


@router.get(
    "/preferences/{person_id}",
    response_model=PreferencesRead,
    responses=PROBLEMS,
    tags=["preferences"],
    summary="A person's opt-outs (empty when they never chose)",
)
async def get_preferences(person_id: str, session: SessionDep, principal: PrincipalDep) -> Any:
    return await service.get_preferences(session, principal, person_id)


@router.put(
    "/preferences/{person_id}",
    response_model=PreferencesRead,
    responses=PROBLEMS,
    tags=["preferences"],
    summary="Replace a person's opt-outs",
    description="The person themselves or staff. " + KINDS_DOC,
)
async def put_preferences(
    person_id: str, body: PreferencesIn, session: SessionDep, principal: PrincipalDep
) -> Any:
    return await service.put_preferences(session, principal, person_id, body.opt_out, utc_now())
