"""What the desk reads: the responsiveness register of a person, the escalations list."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..domain.responsiveness import Responsiveness, responsiveness
from ..repository import EscalationEntry, EscalationQuery, EscalationUnitOfWork


async def person_responsiveness(
    uow: EscalationUnitOfWork,
    person_id: str,
    now: datetime,
    window_days: int,
    min_unanswered: int,
) -> Responsiveness:
    """The register entry of one person, from the episodes the service has seen."""
    since = now - timedelta(days=window_days)
    episodes = await uow.repo.episodes_of_requester(person_id, since)
    return responsiveness(episodes, now, window_days=window_days, min_unresponsive=min_unanswered)


async def list_escalations(
    uow: EscalationUnitOfWork, query: EscalationQuery
) -> list[EscalationEntry]:
    """Everything that happened to chase tickets (one ticket's), oldest first; ``limit + 1``
    at most, after the ``(created_at, seq)`` of the previous page."""
    return await uow.repo.list_escalations(query)
