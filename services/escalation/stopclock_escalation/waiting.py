"""Waiting episodes from ticket events: open one when the ticket waits on its requester,
close it when it stops waiting, mark it away when the requester's automatic away reply
arrives. Returns the timer changes to apply once committed.

Functions never commit; the consumer loop owns the transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from . import calendars
from . import repository as repo
from .domain.episode import answer, close_by_other, mark_away, start_episode
from .domain.timers import next_timer
from .mapping import episode_from_row, snapshot_policy
from .policies import policy_for

WAITING = "waiting_on_user"
REQUESTER_ANSWERED = "requester_answered"


@dataclass(frozen=True, slots=True)
class ScheduleTimer:
    episode_id: str
    due: datetime
    partition: int


@dataclass(frozen=True, slots=True)
class CancelTimer:
    episode_id: str


TimerChange = ScheduleTimer | CancelTimer


@dataclass(frozen=True, slots=True)
class StatusChange:
    """What the escalation service needs of a ``ticket.status_changed`` event."""

    ticket: dict[str, Any]  # the snapshot as it came (docs/events.md, TicketSnapshot)
    from_status: str
    to_status: str
    reason: str | None
    actor_id: str | None
    at: datetime  # event time
    partition: int
    correlation_id: str | None

    @property
    def ticket_id(self) -> uuid.UUID:
        return uuid.UUID(str(self.ticket["id"]))

    @property
    def by_requester(self) -> bool:
        requester_id = (self.ticket.get("requester") or {}).get("id")
        return self.reason == REQUESTER_ANSWERED or (
            self.actor_id is not None and self.actor_id == requester_id
        )


async def status_changed(
    session: AsyncSession, change: StatusChange, desk_manager_email: str
) -> list[TimerChange]:
    """Open or close the ticket's episode; other status changes only refresh the snapshot."""
    await remember_snapshot(session, change.ticket)
    if change.to_status == WAITING and change.from_status != WAITING:
        return await _start(session, change, desk_manager_email)
    if change.from_status == WAITING and change.to_status != WAITING:
        return await _stop(session, change)
    return []


async def remember_snapshot(session: AsyncSession, ticket: dict[str, Any]) -> None:
    """Keep the newest snapshot on the ticket's open episode (any ticket event carries one)."""
    await repo.refresh_snapshot(
        session, uuid.UUID(str(ticket["id"])), ticket, int(ticket.get("version") or 0)
    )


async def _start(
    session: AsyncSession, change: StatusChange, desk_manager_email: str
) -> list[TimerChange]:
    ticket = change.ticket
    policy = await policy_for(session, ticket, desk_manager_email)
    cal = await calendars.calendar_named(session, policy.calendar)
    episode = start_episode(
        episode_id=str(uuid.uuid4()),
        ticket_id=str(change.ticket_id),
        requester_id=str(ticket["requester"]["id"]),
        policy=policy,
        cal=cal,
        started_at=change.at,
    )
    timer = next_timer(episode)
    inserted = await repo.insert_episode(
        session,
        {
            "id": uuid.UUID(episode.id),
            "ticket_id": change.ticket_id,
            "requester_id": episode.requester_id,
            "partition": change.partition,
            "policy": snapshot_policy(policy),
            "started_at": episode.started_at,
            "reminders_at": list(episode.reminders_at),
            "final_at": episode.final_at,
            "reminders_sent": 0,
            "state": episode.state.value,
            "next_due_at": timer.at if timer else None,
            "ticket": ticket,
            "ticket_version": int(ticket.get("version") or 0),
            "correlation_id": change.correlation_id,
        },
    )
    if not inserted or timer is None:
        return []  # already waiting: the running episode keeps its ladder
    return [ScheduleTimer(episode.id, timer.at, change.partition)]


async def _stop(session: AsyncSession, change: StatusChange) -> list[TimerChange]:
    row = await repo.open_episode_of_ticket(session, change.ticket_id, for_update=True)
    if row is None:
        return []
    episode = episode_from_row(row)
    ended = (
        answer(episode, change.at) if change.by_requester else close_by_other(episode, change.at)
    )
    await repo.update_episode(
        session,
        row["id"],
        {
            "state": ended.state.value,
            "ended_at": ended.ended_at,
            "response_seconds": ended.response_seconds,
            "next_due_at": None,
        },
    )
    return [CancelTimer(episode.id)]


async def requester_away(session: AsyncSession, ticket_id: uuid.UUID, at: datetime) -> bool:
    """The requester's automatic away reply reached the ticket at ``at`` (event time): mark
    its open episode away. The ladder is untouched (the ticket still waits and reminders go
    on), so there is no timer change. True when an episode was newly marked.
    """
    row = await repo.open_episode_of_ticket(session, ticket_id, for_update=True)
    if row is None:
        return False  # not waiting (any more): an away reply then says nothing about a wait
    episode = episode_from_row(row)
    marked = mark_away(episode, at)
    if marked is episode:
        return False
    await repo.update_episode(session, row["id"], {"away_at": marked.away_at})
    return True
