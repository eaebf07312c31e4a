"""An in-memory `EscalationRepository` for the use cases' unit tests (cosmicpython's
FakeRepository), and the unit of work that carries it.

It keeps what the SQL repository keeps with the same observable rules: one open episode per
ticket, a snapshot replaced only by a newer version, a calendar only by a newer version, one
register line per step of a ladder, pages of ``limit + 1`` in ``(created_at, seq)`` order.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime

from stopclock_escalation.domain.episode import EpisodeState, WaitingEpisode
from stopclock_escalation.domain.ladder import ScheduleTimer, next_due
from stopclock_escalation.domain.policy import EscalationPolicy
from stopclock_escalation.repository import (
    CalendarCopy,
    EpisodeRecord,
    EscalationEntry,
    EscalationQuery,
    EscalationRepository,
    NewEscalation,
    StoredPolicy,
)
from stopclock_shared.events.tickets import TicketSnapshot
from stopclock_shared.testing.fakes import FakeUnitOfWork


@dataclass
class FakeEscalationRepository:
    policies: dict[str, StoredPolicy] = field(default_factory=dict)
    calendars: dict[str, CalendarCopy] = field(default_factory=dict)
    episodes: dict[str, EpisodeRecord] = field(default_factory=dict)  # by episode id
    register: list[EscalationEntry] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)  # episode ids read for update

    # --- policies

    async def list_policies(self) -> list[StoredPolicy]:
        return [self.policies[name] for name in sorted(self.policies)]

    async def upsert_policy(self, policy: EscalationPolicy, now: datetime) -> tuple[datetime, bool]:
        created = policy.name not in self.policies
        self.policies[policy.name] = StoredPolicy(policy, now)
        return now, created

    async def delete_policy(self, name: str) -> bool:
        return self.policies.pop(name, None) is not None

    # --- calendars

    async def get_calendar(self, name: str) -> CalendarCopy | None:
        return self.calendars.get(name)

    async def list_calendars(self) -> list[CalendarCopy]:
        return list(self.calendars.values())

    async def upsert_calendar(self, copy: CalendarCopy) -> None:
        known = self.calendars.get(copy.name)
        if known is None or known.updated_at <= copy.updated_at:
            self.calendars[copy.name] = copy

    # --- waiting episodes

    def open_of(self, ticket_id: str) -> EpisodeRecord | None:
        """The ticket's open episode (for assertions)."""
        return next(
            (
                r
                for r in self.episodes.values()
                if r.episode.ticket_id == ticket_id and r.episode.state is EpisodeState.OPEN
            ),
            None,
        )

    async def insert_episode(self, record: EpisodeRecord) -> bool:
        if self.open_of(record.episode.ticket_id) is not None:
            return False
        self.episodes[record.episode.id] = record
        return True

    async def open_episode_for_update(self, ticket_id: str) -> EpisodeRecord | None:
        record = self.open_of(ticket_id)
        if record is not None:
            self.locked.append(record.episode.id)
        return record

    async def episode_for_update(self, episode_id: str) -> EpisodeRecord | None:
        record = self.episodes.get(episode_id)
        if record is not None:
            self.locked.append(episode_id)
        return record

    async def save_episode(self, episode: WaitingEpisode) -> None:
        self.episodes[episode.id] = replace(self.episodes[episode.id], episode=episode)

    async def refresh_snapshot(self, ticket: TicketSnapshot) -> None:
        record = self.open_of(ticket.id)
        if record is not None and record.ticket.version < ticket.version:
            self.episodes[record.episode.id] = replace(record, ticket=ticket)

    async def episodes_of_requester(
        self, requester_id: str, since: datetime | None = None
    ) -> list[WaitingEpisode]:
        found = [
            r.episode
            for r in self.episodes.values()
            if r.episode.requester_id == requester_id
            and (since is None or r.episode.started_at >= since)
        ]
        return sorted(found, key=lambda e: e.started_at)

    async def due_in_partitions(self, partitions: Collection[int]) -> list[ScheduleTimer]:
        due = [(r, next_due(r.episode)) for r in self.episodes.values()]
        return [
            ScheduleTimer(r.episode.id, at, r.partition)
            for r, at in due
            if at is not None and r.partition in partitions
        ]

    async def count_open(self) -> int:
        return sum(r.episode.state is EpisodeState.OPEN for r in self.episodes.values())

    # --- the register

    async def insert_escalation(self, line: NewEscalation) -> None:
        if line.episode_id is not None and any(
            str(e.episode_id) == line.episode_id and e.level == line.level for e in self.register
        ):
            raise AssertionError(f"step {line.level} of episode {line.episode_id} recorded twice")
        self.register.append(
            EscalationEntry(
                id=uuid.uuid4(),
                seq=len(self.register) + 1,
                ticket_id=uuid.UUID(line.ticket_id),
                episode_id=uuid.UUID(line.episode_id) if line.episode_id else None,
                kind=line.kind.value,
                level=line.level,
                detail=line.detail,
                created_at=line.at,
            )
        )

    async def list_escalations(self, query: EscalationQuery) -> list[EscalationEntry]:
        found = sorted(
            (
                e
                for e in self.register
                if (query.ticket_id is None or e.ticket_id == query.ticket_id)
                and (query.kind is None or e.kind == query.kind.value)
                and (query.after is None or (e.created_at, e.seq) > query.after)
            ),
            key=lambda e: (e.created_at, e.seq),
        )
        return found[: query.limit + 1]


EscalationUow = FakeUnitOfWork[FakeEscalationRepository]


def unit_of_work(repo: FakeEscalationRepository | None = None) -> EscalationUow:
    return FakeUnitOfWork(repo=repo or FakeEscalationRepository())


def _conforms(repo: FakeEscalationRepository) -> EscalationRepository:
    return repo  # mypy checks that the fake keeps up with the protocol
