"""HTTP routes of the notification service; thin: parse, call a use case, shape the answer.
Refusals are the use cases' domain errors, mapped to problems by the shared handlers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from stopclock_shared.auth import PrincipalDep
from stopclock_shared.db import SessionDep, utc_now
from stopclock_shared.openapi import documented
from stopclock_shared.pagination import Page, PagingQuery, page_of
from stopclock_shared.unit_of_work import SqlUnitOfWork

from .domain import MANDATORY_KINDS, OPTIONAL_KINDS
from .repository import (
    InboundLogQuery,
    MailLogQuery,
    PersonPreferences,
    SqlNotificationRepository,
    StoredMail,
    sql_unit_of_work,
)
from .schemas import (
    InboundRead,
    NotificationRead,
    NotificationStatus,
    PreferencesIn,
    PreferencesRead,
)
from .use_cases import preferences, reads

router = APIRouter(prefix="/api/v1")
KINDS_DOC = (
    f"Optional kinds (may be opted out): {', '.join(sorted(OPTIONAL_KINDS))}. "
    f"Mandatory kinds (422 if listed): {', '.join(sorted(MANDATORY_KINDS))}."
)


def _uow_of(request: Request, session: SessionDep) -> SqlUnitOfWork[SqlNotificationRepository]:
    # The request's transaction (committed by SessionDep), with the service's outbox.
    return sql_unit_of_work(session, request.app.state.runtime.outbox)


UowDep = Annotated[SqlUnitOfWork[SqlNotificationRepository], Depends(_uow_of)]


@dataclass(frozen=True, slots=True)
class LogPage:
    """Which page of a log: its size and the position after which it starts."""

    limit: int
    after: tuple[datetime, uuid.UUID] | None


def _log_page(paging: PagingQuery) -> LogPage:
    return LogPage(paging.limit, paging.after(uuid.UUID))


# The paging parameters both logs take (`limit`, `cursor`), after their filters.
LogPageDep = Annotated[LogPage, Depends(_log_page)]


def _mail_log_query(
    ticket_id: str | None = None,
    recipient: str | None = None,
    status: NotificationStatus | None = None,
    *,
    page: LogPageDep,
) -> MailLogQuery:
    return MailLogQuery(page.limit, page.after, ticket_id, recipient, status=status)


def _inbound_log_query(
    ticket_id: str | None = None, sender: str | None = None, *, page: LogPageDep
) -> InboundLogQuery:
    return InboundLogQuery(page.limit, page.after, ticket_id, sender)


def _shown(mail: StoredMail) -> dict[str, object]:
    # What the mail log shows of a row (a page's cursor is read from it by key).
    return {name: getattr(mail, name) for name in NotificationRead.model_fields}


@router.get(
    "/notifications",
    **documented(
        Page[NotificationRead],
        "notifications",
        "The outgoing mail log",
        description=(
            "Mails in the order they were recorded. `recipient` matches the address "
            "(case-insensitively) or the person id. Staff (agent, manager, admin, service) "
            "see every mail; a requester sees only the mails addressed to their own person id."
        ),
    ),
)
async def list_notifications(
    uow: UowDep, principal: PrincipalDep, query: Annotated[MailLogQuery, Depends(_mail_log_query)]
) -> dict[str, object]:
    found = await reads.list_notifications(uow, principal, query)
    return page_of([_shown(mail) for mail in found], query.limit)


@router.get(
    "/inbound",
    **documented(
        Page[InboundRead],
        "inbound",
        "Mails to the desk and what each did",
        description=(
            "Every mail taken in (SMTP or IMAP), in the order received, with its `outcome`: "
            "`comment` (the requester's answer), `internal_comment` (another sender), "
            "`new_ticket`, `auto_reply`, `bounce` or `rejected` (`detail` says why). `sender` "
            "matches the address case-insensitively. Staff only (requesters: 403)."
        ),
    ),
)
async def list_inbound(
    uow: UowDep,
    principal: PrincipalDep,
    query: Annotated[InboundLogQuery, Depends(_inbound_log_query)],
) -> dict[str, object]:
    rows = await reads.list_inbound(uow, principal, query)
    return page_of(rows, query.limit, order="received_at")


@router.get(
    "/preferences/{person_id}",
    **documented(
        PreferencesRead, "preferences", "A person's opt-outs (empty when they never chose)"
    ),
)
async def get_preferences(
    person_id: str, uow: UowDep, principal: PrincipalDep
) -> PersonPreferences:
    return await preferences.get_preferences(uow, principal, person_id)


@router.put(
    "/preferences/{person_id}",
    **documented(
        PreferencesRead,
        "preferences",
        "Replace a person's opt-outs",
        description="The person themselves or staff. " + KINDS_DOC,
    ),
)
async def put_preferences(
    person_id: str, body: PreferencesIn, uow: UowDep, principal: PrincipalDep
) -> PersonPreferences:
    return await preferences.put_preferences(uow, principal, person_id, body.opt_out, utc_now())
