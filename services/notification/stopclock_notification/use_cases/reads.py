"""The logs the HTTP API shows: mails sent (to whom may see them) and mails taken in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from stopclock_shared.auth import Principal
from stopclock_shared.errors import Forbidden

from ..repository import InboundLogQuery, MailLogQuery, StoredMail
from ..schemas import InboundRead
from . import NotificationUnitOfWork


async def list_notifications(
    uow: NotificationUnitOfWork, principal: Principal, query: MailLogQuery
) -> Sequence[StoredMail]:
    """The mail log; a requester sees only the mails addressed to their own person id."""
    if not principal.is_staff:
        query = replace(query, recipient_id=principal.sub)
    return await uow.repo.list_notifications(query)


async def list_inbound(
    uow: NotificationUnitOfWork, principal: Principal, query: InboundLogQuery
) -> Sequence[InboundRead]:
    """The inbound log, for staff only: it shows who wrote what to the desk."""
    if not principal.is_staff:
        raise Forbidden("Only staff may read the inbound mail log")
    return await uow.repo.list_inbound(query)
