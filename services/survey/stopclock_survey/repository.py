"""What the survey service stores: the `SurveyRepository` protocol the use cases see, and
its SQL implementation (all SQL of the service)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, RowMapping, Select, and_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.outbox import Outbox
from stopclock_shared.unit_of_work import SqlUnitOfWork

from .domain.csat import SurveyOutcome
from .domain.survey import Survey, SurveyStatus
from .domain.waits import Wait, WaitEnd, WaitingTicket
from .models import answer_tickets, answer_waits, breached_tickets, surveys

# A JSON object as stored and sent on (the ticket snapshot of a survey).
Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    """A stored survey: the domain survey, the ticket's service (CSAT per service) and the
    ticket as it was resolved (the page shows it; its events carry it as received)."""

    survey: Survey
    service: str | None
    ticket: Json

    @property
    def requester(self) -> Json:
        person: Json = self.ticket.get("requester") or {}
        return person


@dataclass(frozen=True, slots=True)
class SurveyQuery:
    """Which surveys to list: of a ticket, of a requester, ``limit`` after a cursor's."""

    ticket_id: uuid.UUID | None
    requester_id: str | None
    limit: int
    after: tuple[datetime, uuid.UUID] | None  # (sent_at, id) of the last one seen


class SurveyRepository(Protocol):
    # -- surveys --
    async def add_survey(self, record: SurveyRecord, token_digest: str) -> None: ...

    async def survey_by_digest(
        self, digest: str, *, for_update: bool = False
    ) -> SurveyRecord | None: ...

    async def save_survey(self, survey: Survey) -> None:
        """Store the survey's status and answer."""

    async def expire_due(self, now: datetime) -> int:
        """Mark every unanswered survey past its expiry; how many."""

    async def list_surveys(self, query: SurveyQuery) -> Sequence[SurveyRecord]:
        """Up to ``limit + 1`` surveys in ``(sent_at, id)`` order, after the cursor's."""

    async def outcomes(
        self, since: datetime | None, until: datetime | None, service: str | None
    ) -> Sequence[SurveyOutcome]:
        """What became of every survey sent in ``[since, until)``."""

    async def mark_breached(self, ticket_id: uuid.UUID, at: datetime) -> None: ...

    async def was_breached(self, ticket_id: uuid.UUID) -> bool: ...

    # -- the answer pages' replica of the waits --
    async def waiting_ticket(
        self, ticket_id: uuid.UUID, *, for_update: bool = False
    ) -> WaitingTicket | None: ...

    async def ticket_and_wait(
        self, ticket_id: uuid.UUID, since: datetime
    ) -> tuple[WaitingTicket | None, Wait | None]:
        """A ticket and its wait begun at ``since``, as of one moment."""

    async def save_waiting_ticket(self, ticket: WaitingTicket) -> None:
        """Insert or refresh; an older snapshot never overwrites a newer one."""

    async def add_wait(self, ticket_id: uuid.UUID, wait: Wait) -> None:
        """Record a wait begun (once: a second one with the same ``since`` is ignored)."""

    async def end_open_waits(self, ticket_id: uuid.UUID, how: WaitEnd, at: datetime) -> None: ...

    async def ask_in_open_wait(self, ticket_id: uuid.UUID, question: str) -> None:
        """Give the open wait of a ticket a question when it began without one."""

    async def wait_of(
        self, ticket_id: uuid.UUID, since: datetime, *, for_update: bool = False
    ) -> Wait | None: ...

    async def record_answer(
        self, ticket_id: uuid.UUID, answered: Wait, comment: str | None
    ) -> None:
        """The page's one answer to a wait (its ``answered_at``, ``answer``) and its comment."""


# Columns named as the domain's fields.
_SURVEY_FIELDS = ("requester_id", "sent_at", "expires_at", "rating", "resolved", "comment")
_WAIT_FIELDS = ("since", "reason", "question", "ended_at", "answered_at", "answer")
_TICKET_FIELDS = tuple(f.name for f in fields(WaitingTicket))


def _record(row: RowMapping) -> SurveyRecord:
    survey = Survey(
        id=str(row["id"]),
        ticket_id=str(row["ticket_id"]),
        status=SurveyStatus(row["status"]),
        answered_at=row["answered_at"],
        **{name: row[name] for name in _SURVEY_FIELDS},
    )
    return SurveyRecord(survey, row["service"], row["ticket"])


def _wait(row: RowMapping | Mapping[str, Any]) -> Wait:
    how = row["ended_how"]
    return Wait(end=WaitEnd(how) if how else None, **{name: row[name] for name in _WAIT_FIELDS})


def _ticket(row: RowMapping | Mapping[str, Any]) -> WaitingTicket:
    return WaitingTicket(**{name: row[name] for name in _TICKET_FIELDS})


@dataclass(frozen=True, slots=True)
class SqlSurveyRepository:
    session: AsyncSession

    async def _one(self, stmt: Select[Any]) -> RowMapping | None:
        row: RowMapping | None = (await self.session.execute(stmt)).mappings().first()
        return row

    async def add_survey(self, record: SurveyRecord, token_digest: str) -> None:
        survey = record.survey
        values = {
            "id": uuid.UUID(survey.id),
            "ticket_id": uuid.UUID(survey.ticket_id),
            "service": record.service,
            "token_digest": token_digest,
            "status": survey.status.value,
            "ticket": record.ticket,
        }
        values |= {name: getattr(survey, name) for name in _SURVEY_FIELDS[:3]}
        await self.session.execute(insert(surveys).values(**values))

    async def survey_by_digest(
        self, digest: str, *, for_update: bool = False
    ) -> SurveyRecord | None:
        stmt = select(surveys).where(surveys.c.token_digest == digest)
        row = await self._one(stmt.with_for_update() if for_update else stmt)
        return _record(row) if row is not None else None

    async def save_survey(self, survey: Survey) -> None:
        answer = {name: getattr(survey, name) for name in _SURVEY_FIELDS[3:]}
        stmt = (
            update(surveys)
            .where(surveys.c.id == uuid.UUID(survey.id))
            .values(status=survey.status.value, answered_at=survey.answered_at, **answer)
        )
        await self.session.execute(stmt)

    async def expire_due(self, now: datetime) -> int:
        sent = SurveyStatus.SENT.value
        stmt = (
            update(surveys)
            .where(surveys.c.status == sent, surveys.c.expires_at <= now)
            .values(status=SurveyStatus.EXPIRED.value)
            .returning(surveys.c.id)
        )
        return len((await self.session.execute(stmt)).all())

    async def list_surveys(self, query: SurveyQuery) -> Sequence[SurveyRecord]:
        order = (surveys.c.sent_at, surveys.c.id)
        wanted: list[ColumnElement[bool]] = []
        if query.ticket_id is not None:
            wanted.append(surveys.c.ticket_id == query.ticket_id)
        if query.requester_id is not None:
            wanted.append(surveys.c.requester_id == query.requester_id)
        if query.after is not None:
            wanted.append(tuple_(*order) > tuple_(*query.after))
        stmt = select(surveys).where(*wanted).order_by(*order).limit(query.limit + 1)
        return [_record(row) for row in (await self.session.execute(stmt)).mappings()]

    async def outcomes(
        self, since: datetime | None, until: datetime | None, service: str | None
    ) -> Sequence[SurveyOutcome]:
        breached = breached_tickets.c.ticket_id.isnot(None)
        stmt = select(surveys.c.service, breached, surveys.c.rating).outerjoin(
            breached_tickets, breached_tickets.c.ticket_id == surveys.c.ticket_id
        )
        if since is not None:
            stmt = stmt.where(surveys.c.sent_at >= since)
        if until is not None:
            stmt = stmt.where(surveys.c.sent_at < until)
        if service is not None:
            stmt = stmt.where(surveys.c.service == service)
        rows = (await self.session.execute(stmt)).all()
        return [SurveyOutcome(service, bool(after), rating) for service, after, rating in rows]

    async def mark_breached(self, ticket_id: uuid.UUID, at: datetime) -> None:
        stmt = insert(breached_tickets).values(ticket_id=ticket_id, breached_at=at)
        await self.session.execute(
            stmt.on_conflict_do_nothing(index_elements=[breached_tickets.c.ticket_id])
        )

    async def was_breached(self, ticket_id: uuid.UUID) -> bool:
        column = breached_tickets.c.ticket_id
        return await self._one(select(column).where(column == ticket_id)) is not None

    # -- the answer pages' replica of the waits ----------------------------------------------
    async def waiting_ticket(
        self, ticket_id: uuid.UUID, *, for_update: bool = False
    ) -> WaitingTicket | None:
        stmt = select(answer_tickets).where(answer_tickets.c.ticket_id == ticket_id)
        row = await self._one(stmt.with_for_update() if for_update else stmt)
        return _ticket(row) if row is not None else None

    async def ticket_and_wait(
        self, ticket_id: uuid.UUID, since: datetime
    ) -> tuple[WaitingTicket | None, Wait | None]:
        # One statement: both rows come from the same snapshot (the replica changes them in
        # one transaction).
        t, w = answer_tickets, answer_waits
        stmt = (
            select(t, *[c.label(f"wait_{c.name}") for c in w.c])
            .outerjoin(w, and_(w.c.ticket_id == t.c.ticket_id, w.c.since == since))
            .where(t.c.ticket_id == ticket_id)
        )
        row = await self._one(stmt)
        if row is None:
            return None, None
        ticket = _ticket(row)
        if row["wait_since"] is None:
            return ticket, None
        return ticket, _wait({c.name: row[f"wait_{c.name}"] for c in w.c})

    async def save_waiting_ticket(self, ticket: WaitingTicket) -> None:
        values = {name: getattr(ticket, name) for name in _TICKET_FIELDS}
        stmt = insert(answer_tickets).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[answer_tickets.c.ticket_id],
            set_={k: stmt.excluded[k] for k in values if k != "ticket_id"},
            where=answer_tickets.c.version <= stmt.excluded.version,
        )
        await self.session.execute(stmt)

    async def add_wait(self, ticket_id: uuid.UUID, wait: Wait) -> None:
        stmt = insert(answer_waits).values(
            ticket_id=ticket_id, since=wait.since, reason=wait.reason, question=wait.question
        )
        keys = [answer_waits.c.ticket_id, answer_waits.c.since]
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=keys))

    async def end_open_waits(self, ticket_id: uuid.UUID, how: WaitEnd, at: datetime) -> None:
        w = answer_waits
        stmt = (
            update(w)
            .where(w.c.ticket_id == ticket_id, w.c.ended_at.is_(None))
            .values(ended_at=at, ended_how=how.value)
        )
        await self.session.execute(stmt)

    async def ask_in_open_wait(self, ticket_id: uuid.UUID, question: str) -> None:
        w = answer_waits
        stmt = (
            update(w)
            .where(w.c.ticket_id == ticket_id, w.c.ended_at.is_(None), w.c.question.is_(None))
            .values(question=question)
        )
        await self.session.execute(stmt)

    async def wait_of(
        self, ticket_id: uuid.UUID, since: datetime, *, for_update: bool = False
    ) -> Wait | None:
        w = answer_waits
        stmt = select(w).where(w.c.ticket_id == ticket_id, w.c.since == since)
        row = await self._one(stmt.with_for_update() if for_update else stmt)
        return _wait(row) if row is not None else None

    async def record_answer(
        self, ticket_id: uuid.UUID, answered: Wait, comment: str | None
    ) -> None:
        w = answer_waits
        stmt = (
            update(w)
            .where(w.c.ticket_id == ticket_id, w.c.since == answered.since)
            .values(answered_at=answered.answered_at, answer=answered.answer, comment=comment)
        )
        await self.session.execute(stmt)


def unit_of_work(session: AsyncSession, outbox: Outbox) -> SqlUnitOfWork[SqlSurveyRepository]:
    """The unit of work of one transaction of ``session`` (its caller commits)."""
    return SqlUnitOfWork(session, outbox, SqlSurveyRepository(session))
