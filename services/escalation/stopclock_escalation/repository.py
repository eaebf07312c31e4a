"""What the escalation service stores: the repository protocol the use cases see, and its
SQL implementation (all SQL of the service). Rows leave here as domain objects."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import RowMapping, bindparam, delete, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from stopclock_shared.events.tickets import TicketSnapshot
from stopclock_shared.outbox import Outbox
from stopclock_shared.unit_of_work import SqlUnitOfWork, UnitOfWork

from .domain.episode import EpisodeState, WaitingEpisode
from .domain.escalations import EscalationKind
from .domain.ladder import ScheduleTimer, next_due
from .domain.policy import EscalationPolicy, policy_from_spec, policy_to_spec
from .models import calendars, escalation_policies, escalations, waiting_episodes

OPEN = EpisodeState.OPEN.value


class StoredPolicy(NamedTuple):
    policy: EscalationPolicy
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CalendarCopy:
    """One version of an SLA calendar: its PUT body as the SLA service published it."""

    name: str
    spec: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class EpisodeRecord:
    """An episode with what is kept beside it: the latest ticket snapshot (for the decision
    and the events), the ticket's Kafka partition (whose owner holds the timer) and the
    correlation id of the event that opened it (the ladder's events carry it)."""

    episode: WaitingEpisode
    ticket: TicketSnapshot
    partition: int
    correlation_id: str | None


@dataclass(frozen=True, slots=True)
class NewEscalation:
    """A line for the register; ``episode_id`` for a step of a ladder (recorded once)."""

    ticket_id: str
    kind: EscalationKind
    level: int
    detail: str
    at: datetime  # when it happened (a step: when it was due)
    episode_id: str | None = None


class EscalationQuery(NamedTuple):
    """Lines of one ticket and/or kind, after ``(created_at, seq)``; ``limit + 1`` at most."""

    ticket_id: uuid.UUID | None
    kind: EscalationKind | None
    limit: int
    after: tuple[datetime, int] | None


@dataclass(frozen=True, slots=True)
class EscalationEntry:
    """One line of ``GET /escalations``; ``seq`` orders lines that share an instant."""

    id: uuid.UUID
    seq: int
    ticket_id: uuid.UUID
    episode_id: uuid.UUID | None
    kind: str
    level: int
    detail: str
    created_at: datetime


class EscalationRepository(Protocol):
    # --- policies
    async def list_policies(self) -> list[StoredPolicy]: ...
    async def upsert_policy(self, policy: EscalationPolicy, now: datetime) -> tuple[datetime, bool]:
        """Create or replace; (updated_at, created)."""
        ...

    async def delete_policy(self, name: str) -> bool: ...

    # --- the copy of the SLA calendars
    async def get_calendar(self, name: str) -> CalendarCopy | None: ...
    async def list_calendars(self) -> list[CalendarCopy]: ...
    async def upsert_calendar(self, copy: CalendarCopy) -> None:
        """Keep the newest version: an older one replayed late never wins."""
        ...

    # --- waiting episodes
    async def insert_episode(self, record: EpisodeRecord) -> bool:
        """Insert an open episode; False when the ticket already has one (kept as it is)."""
        ...

    async def open_episode_for_update(self, ticket_id: str) -> EpisodeRecord | None: ...
    async def episode_for_update(self, episode_id: str) -> EpisodeRecord | None: ...
    async def save_episode(self, episode: WaitingEpisode) -> None:
        """Store the episode's progress (and its next due time)."""
        ...

    async def refresh_snapshot(self, ticket: TicketSnapshot) -> None:
        """Keep the newest snapshot on the ticket's open episode (an older one never wins)."""
        ...

    async def episodes_of_requester(
        self, requester_id: str, since: datetime | None = None
    ) -> list[WaitingEpisode]:
        """The requester's episodes started since ``since``, oldest first."""
        ...

    async def due_in_partitions(self, partitions: Collection[int]) -> list[ScheduleTimer]:
        """The timers of the open episodes of ``partitions`` (rebuilt on assignment)."""
        ...

    async def count_open(self) -> int: ...

    # --- the escalations register
    async def insert_escalation(self, line: NewEscalation) -> None: ...
    async def list_escalations(self, query: EscalationQuery) -> list[EscalationEntry]:
        """Oldest first, ``limit + 1`` at most (the extra one says there is more)."""
        ...


def unit_of_work(session: AsyncSession, outbox: Outbox) -> SqlUnitOfWork[SqlEscalationRepository]:
    """The unit of work of one transaction (an HTTP request, an event, a timer's firing)."""
    return SqlUnitOfWork(session, outbox, SqlEscalationRepository(session))


EscalationUnitOfWork = UnitOfWork[EscalationRepository]


def stored_policy(policy: EscalationPolicy) -> dict[str, Any]:
    """The policy as an episode keeps it: its JSON form plus its name."""
    return {"name": policy.name, **policy_to_spec(policy)}


def _snapshot(ticket: TicketSnapshot) -> dict[str, Any]:
    # Only the fields the event carried, so what we send on later is what we were given.
    return ticket.model_dump(mode="json", exclude_unset=True)


def episode_from_row(row: RowMapping) -> WaitingEpisode:
    """The domain episode of a ``waiting_episodes`` row."""
    stored = dict(row["policy"])
    return WaitingEpisode(
        id=str(row["id"]),
        ticket_id=str(row["ticket_id"]),
        requester_id=row["requester_id"],
        policy=policy_from_spec(stored.pop("name"), stored),
        started_at=row["started_at"],
        reminders_at=tuple(row["reminders_at"]),
        final_at=row["final_at"],
        reminders_sent=row["reminders_sent"],
        state=EpisodeState(row["state"]),
        ended_at=row["ended_at"],
        response_seconds=row["response_seconds"],
        away_at=row["away_at"],
    )


def _record(row: RowMapping) -> EpisodeRecord:
    return EpisodeRecord(
        episode=episode_from_row(row),
        ticket=TicketSnapshot.model_validate(row["ticket"]),
        partition=row["partition"],
        correlation_id=row["correlation_id"],
    )


_REFRESH_SNAPSHOT = (  # built once: every ticket event of a waiting ticket runs it
    update(waiting_episodes)
    .where(
        waiting_episodes.c.ticket_id == bindparam("b_ticket"),
        waiting_episodes.c.state == OPEN,
        waiting_episodes.c.ticket_version < bindparam("b_version"),
    )
    .values(updated_at=func.now())
)


class SqlEscalationRepository:
    """The repository on one session's transaction (it never commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _rows(self, stmt: Executable) -> Sequence[RowMapping]:
        return (await self.session.execute(stmt)).mappings().all()

    # --- policies -----------------------------------------------------------------------

    async def list_policies(self) -> list[StoredPolicy]:
        t = escalation_policies
        rows = await self._rows(select(t).order_by(t.c.name))
        return [StoredPolicy(policy_from_spec(r["name"], r["spec"]), r["updated_at"]) for r in rows]

    async def upsert_policy(self, policy: EscalationPolicy, now: datetime) -> tuple[datetime, bool]:
        t = escalation_policies
        spec = policy_to_spec(policy)
        found = select(t.c.name).where(t.c.name == policy.name)
        existed = (await self.session.execute(found)).first()
        stmt = (
            insert(t)
            .values(name=policy.name, spec=spec, created_at=now, updated_at=now)
            .on_conflict_do_update(
                index_elements=[t.c.name], set_={"spec": spec, "updated_at": now}
            )
            .returning(t.c.updated_at)
        )
        updated_at: datetime = (await self.session.execute(stmt)).scalar_one()
        return updated_at, existed is None

    async def delete_policy(self, name: str) -> bool:
        t = escalation_policies
        stmt = delete(t).where(t.c.name == name).returning(t.c.name)
        return (await self.session.execute(stmt)).first() is not None

    # --- calendars ----------------------------------------------------------------------

    async def get_calendar(self, name: str) -> CalendarCopy | None:
        rows = await self._rows(select(calendars).where(calendars.c.name == name))
        return _calendar(rows[0]) if rows else None

    async def list_calendars(self) -> list[CalendarCopy]:
        return [_calendar(r) for r in await self._rows(select(calendars))]

    async def upsert_calendar(self, copy: CalendarCopy) -> None:
        t = calendars
        stmt = insert(t).values(name=copy.name, spec=copy.spec, updated_at=copy.updated_at)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.name],
            set_={"spec": copy.spec, "updated_at": copy.updated_at, "received_at": func.now()},
            where=t.c.updated_at <= copy.updated_at,
        )
        await self.session.execute(stmt)

    # --- waiting episodes ---------------------------------------------------------------

    async def insert_episode(self, record: EpisodeRecord) -> bool:
        episode = record.episode
        stmt = (
            insert(waiting_episodes)
            .values(
                id=uuid.UUID(episode.id),
                ticket_id=uuid.UUID(episode.ticket_id),
                requester_id=episode.requester_id,
                partition=record.partition,
                policy=stored_policy(episode.policy),
                started_at=episode.started_at,
                reminders_at=list(episode.reminders_at),
                final_at=episode.final_at,
                reminders_sent=episode.reminders_sent,
                state=episode.state.value,
                next_due_at=next_due(episode),
                ticket=_snapshot(record.ticket),
                ticket_version=record.ticket.version,
                correlation_id=record.correlation_id,
            )
            .on_conflict_do_nothing(
                index_elements=[waiting_episodes.c.ticket_id],
                # A literal, not a bound parameter: PostgreSQL must match the partial index's
                # predicate, which a generic plan of a prepared statement cannot.
                index_where=text("state = 'open'"),
            )
            .returning(waiting_episodes.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def open_episode_for_update(self, ticket_id: str) -> EpisodeRecord | None:
        t = waiting_episodes
        stmt = select(t).where(t.c.ticket_id == uuid.UUID(ticket_id), t.c.state == OPEN)
        rows = await self._rows(stmt.with_for_update())
        return _record(rows[0]) if rows else None

    async def episode_for_update(self, episode_id: str) -> EpisodeRecord | None:
        t = waiting_episodes
        stmt = select(t).where(t.c.id == uuid.UUID(episode_id)).with_for_update()
        rows = await self._rows(stmt)
        return _record(rows[0]) if rows else None

    async def save_episode(self, episode: WaitingEpisode) -> None:
        t = waiting_episodes
        await self.session.execute(
            update(t)
            .where(t.c.id == uuid.UUID(episode.id))
            .values(
                reminders_sent=episode.reminders_sent,
                state=episode.state.value,
                ended_at=episode.ended_at,
                response_seconds=episode.response_seconds,
                away_at=episode.away_at,
                next_due_at=next_due(episode),
                updated_at=func.now(),
            )
        )

    async def refresh_snapshot(self, ticket: TicketSnapshot) -> None:
        await self.session.execute(
            _REFRESH_SNAPSHOT,
            {
                "b_ticket": uuid.UUID(ticket.id),
                "b_version": ticket.version,
                "ticket": _snapshot(ticket),
                "ticket_version": ticket.version,
            },
        )

    async def episodes_of_requester(
        self, requester_id: str, since: datetime | None = None
    ) -> list[WaitingEpisode]:
        t = waiting_episodes
        stmt = select(t).where(t.c.requester_id == requester_id)
        if since is not None:
            stmt = stmt.where(t.c.started_at >= since)
        return [episode_from_row(r) for r in await self._rows(stmt.order_by(t.c.started_at))]

    async def due_in_partitions(self, partitions: Collection[int]) -> list[ScheduleTimer]:
        t = waiting_episodes
        stmt = select(t.c.id, t.c.partition, t.c.next_due_at).where(
            t.c.state == OPEN, t.c.partition.in_(list(partitions)), t.c.next_due_at.isnot(None)
        )
        rows = await self._rows(stmt)
        return [ScheduleTimer(str(r["id"]), r["next_due_at"], r["partition"]) for r in rows]

    async def count_open(self) -> int:
        stmt = select(func.count()).where(waiting_episodes.c.state == OPEN)
        return int((await self.session.execute(stmt)).scalar_one())

    # --- escalations --------------------------------------------------------------------

    async def insert_escalation(self, line: NewEscalation) -> None:
        await self.session.execute(
            insert(escalations).values(
                id=uuid.uuid4(),
                ticket_id=uuid.UUID(line.ticket_id),
                episode_id=uuid.UUID(line.episode_id) if line.episode_id else None,
                kind=line.kind.value,
                level=line.level,
                detail=line.detail,
                created_at=line.at,
            )
        )

    async def list_escalations(self, query: EscalationQuery) -> list[EscalationEntry]:
        t = escalations
        stmt = select(*_ENTRY_COLUMNS)
        if query.ticket_id is not None:
            stmt = stmt.where(t.c.ticket_id == query.ticket_id)
        if query.kind is not None:
            stmt = stmt.where(t.c.kind == query.kind.value)
        if query.after is not None:
            stmt = stmt.where(tuple_(t.c.created_at, t.c.seq) > tuple_(*query.after))
        stmt = stmt.order_by(t.c.created_at, t.c.seq).limit(query.limit + 1)
        return [EscalationEntry(**row) for row in await self._rows(stmt)]


_ENTRY_COLUMNS = [escalations.c[f.name] for f in fields(EscalationEntry)]


def _calendar(row: RowMapping) -> CalendarCopy:
    return CalendarCopy(row["name"], dict(row["spec"]), row["updated_at"])
