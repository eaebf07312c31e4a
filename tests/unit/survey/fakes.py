"""An in-memory `SurveyRepository` for the use cases' unit tests (the SQL one is proven by
the integration tests)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from stopclock_shared.events.tickets import TicketSnapshot
from stopclock_shared.testing.fakes import FakeUnitOfWork
from stopclock_survey.domain.csat import SurveyOutcome
from stopclock_survey.domain.survey import Survey, SurveyStatus
from stopclock_survey.domain.waits import Wait, WaitEnd, WaitingTicket
from stopclock_survey.repository import SurveyQuery, SurveyRecord

RESOLVED_AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@dataclass
class FakeSurveyRepository:
    surveys: dict[str, SurveyRecord] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)  # digest -> survey id
    breached: dict[uuid.UUID, datetime] = field(default_factory=dict)
    tickets: dict[uuid.UUID, WaitingTicket] = field(default_factory=dict)
    waits: dict[tuple[uuid.UUID, datetime], Wait] = field(default_factory=dict)
    answers: dict[tuple[uuid.UUID, datetime], str | None] = field(default_factory=dict)
    locked: list[str] = field(default_factory=list)

    # -- surveys --
    async def add_survey(self, record: SurveyRecord, token_digest: str) -> None:
        self.surveys[record.survey.id] = record
        self.digests[token_digest] = record.survey.id

    async def survey_by_digest(
        self, digest: str, *, for_update: bool = False
    ) -> SurveyRecord | None:
        found = self.digests.get(digest)
        if found is not None and for_update:
            self.locked.append(found)
        return self.surveys.get(found) if found is not None else None

    async def save_survey(self, survey: Survey) -> None:
        self.surveys[survey.id] = replace(self.surveys[survey.id], survey=survey)

    async def expire_due(self, now: datetime) -> int:
        due = [
            r.survey
            for r in self.surveys.values()
            if r.survey.status is SurveyStatus.SENT and r.survey.expires_at <= now
        ]
        for survey in due:
            await self.save_survey(replace(survey, status=SurveyStatus.EXPIRED))
        return len(due)

    async def list_surveys(self, query: SurveyQuery) -> Sequence[SurveyRecord]:
        def key(record: SurveyRecord) -> tuple[datetime, uuid.UUID]:
            return record.survey.sent_at, uuid.UUID(record.survey.id)

        found = [
            r
            for r in sorted(self.surveys.values(), key=key)
            if query.ticket_id in (None, uuid.UUID(r.survey.ticket_id))
            and query.requester_id in (None, r.survey.requester_id)
            and (query.after is None or key(r) > query.after)
        ]
        return found[: query.limit + 1]

    async def outcomes(
        self, since: datetime | None, until: datetime | None, service: str | None
    ) -> Sequence[SurveyOutcome]:
        return [
            SurveyOutcome(
                r.service, uuid.UUID(r.survey.ticket_id) in self.breached, r.survey.rating
            )
            for r in self.surveys.values()
            if (since is None or r.survey.sent_at >= since)
            and (until is None or r.survey.sent_at < until)
            and (service is None or r.service == service)
        ]

    async def mark_breached(self, ticket_id: uuid.UUID, at: datetime) -> None:
        self.breached.setdefault(ticket_id, at)

    async def was_breached(self, ticket_id: uuid.UUID) -> bool:
        return ticket_id in self.breached

    # -- the answer pages' replica --
    async def waiting_ticket(
        self, ticket_id: uuid.UUID, *, for_update: bool = False
    ) -> WaitingTicket | None:
        return self.tickets.get(ticket_id)

    async def ticket_and_wait(
        self, ticket_id: uuid.UUID, since: datetime
    ) -> tuple[WaitingTicket | None, Wait | None]:
        ticket = self.tickets.get(ticket_id)
        return ticket, self.waits.get((ticket_id, since)) if ticket is not None else None

    async def save_waiting_ticket(self, ticket: WaitingTicket) -> None:
        known = self.tickets.get(ticket.ticket_id)
        if known is None or known.version <= ticket.version:
            self.tickets[ticket.ticket_id] = ticket

    async def add_wait(self, ticket_id: uuid.UUID, wait: Wait) -> None:
        self.waits.setdefault((ticket_id, wait.since), wait)

    async def end_open_waits(self, ticket_id: uuid.UUID, how: WaitEnd, at: datetime) -> None:
        for key, wait in self.waits.items():
            if key[0] == ticket_id and wait.ended_at is None:
                self.waits[key] = replace(wait, ended_at=at, end=how)

    async def ask_in_open_wait(self, ticket_id: uuid.UUID, question: str) -> None:
        for key, wait in self.waits.items():
            if key[0] == ticket_id and wait.ended_at is None and wait.question is None:
                self.waits[key] = replace(wait, question=question)

    async def wait_of(
        self, ticket_id: uuid.UUID, since: datetime, *, for_update: bool = False
    ) -> Wait | None:
        if for_update:
            self.locked.append(f"{ticket_id}@{since.isoformat()}")
        return self.waits.get((ticket_id, since))

    async def record_answer(
        self, ticket_id: uuid.UUID, answered: Wait, comment: str | None
    ) -> None:
        self.waits[(ticket_id, answered.since)] = answered
        self.answers[(ticket_id, answered.since)] = comment


def fake_uow() -> FakeUnitOfWork[FakeSurveyRepository]:
    return FakeUnitOfWork(repo=FakeSurveyRepository())


def snapshot(ticket_id: uuid.UUID | None = None, **fields: Any) -> dict[str, Any]:
    """A ticket snapshot as the ticket service sends it (JSON)."""
    data: dict[str, Any] = {
        "id": str(ticket_id or uuid.uuid4()),
        "number": "INC0000042",
        "type": "incident",
        "title": "VPN drops",
        "description": "Every 5 minutes.",
        "status": "resolved",
        "waiting_reason": None,
        "priority": "p3",
        "impact": "medium",
        "urgency": "medium",
        "requester": {
            "id": "alice",
            "name": "Alice Durand",
            "email": "alice@example.com",
            "timezone": "Europe/Paris",
            "locale": "fr",
        },
        "assignee_id": "marie",
        "assignee": {"id": "marie", "name": "Marie Curie", "email": "marie@example.com"},
        "group": None,
        "service": "vpn",
        "category": None,
        "work_blocked": False,
        "created_at": (RESOLVED_AT - timedelta(days=1)).isoformat(),
        "updated_at": RESOLVED_AT.isoformat(),
        "resolved_at": RESOLVED_AT.isoformat(),
        "closed_at": None,
        "resolution": "Client reinstalled.",
        "version": 3,
    }
    return data | fields


def ticket_model(**fields: Any) -> TicketSnapshot:
    return TicketSnapshot.model_validate(snapshot(**fields))
