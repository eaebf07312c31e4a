"""Waiting episodes from ticket events: open one when the ticket starts waiting on its
requester, end it when the ticket stops waiting (answered, or closed by the desk), mark
it away when the requester's automatic away reply arrives, keep its ticket snapshot fresh.

Opening and ending return the timer changes to apply once the transaction has committed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from stopclock_shared.events.tickets import TicketCommented, TicketSnapshot, TicketStatusChanged
from stopclock_shared.events.vocabulary import NoteKind

from ..domain.episode import (
    WAITING,
    answer,
    answered_by_requester,
    close_by_other,
    mark_away,
    start_episode,
)
from ..domain.ladder import CancelTimer, ScheduleTimer, TimerChange, next_timer
from ..repository import EpisodeRecord, EscalationUnitOfWork
from .calendars import calendar_named
from .policies import policy_for


async def status_changed(
    uow: EscalationUnitOfWork,
    change: TicketStatusChanged,
    *,
    at: datetime,
    partition: int,
    correlation_id: str | None,
    desk_manager_email: str,
) -> list[TimerChange]:
    """Open or end the ticket's episode (``at``: event time; ``partition``: the ticket's,
    whose owner holds the timer); other status changes only refresh the snapshot."""
    await uow.repo.refresh_snapshot(change.ticket)
    if change.to_status == WAITING and change.from_status != WAITING:
        return await _open(uow, change.ticket, at, partition, correlation_id, desk_manager_email)
    if change.from_status == WAITING and change.to_status != WAITING:
        return await _end(uow, change, at)
    return []


async def _open(
    uow: EscalationUnitOfWork,
    ticket: TicketSnapshot,
    at: datetime,
    partition: int,
    correlation_id: str | None,
    desk_manager_email: str,
) -> list[TimerChange]:
    policy = await policy_for(uow, ticket, desk_manager_email)
    episode = start_episode(
        episode_id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        requester_id=ticket.requester.id,
        policy=policy,
        cal=await calendar_named(uow, policy.calendar),
        started_at=at,
    )
    inserted = await uow.repo.insert_episode(
        EpisodeRecord(episode, ticket, partition, correlation_id)
    )
    timer = next_timer(episode)
    if not inserted or timer is None:
        return []  # already waiting: the running episode keeps its ladder
    return [ScheduleTimer(episode.id, timer.at, partition)]


async def _end(
    uow: EscalationUnitOfWork, change: TicketStatusChanged, at: datetime
) -> list[TimerChange]:
    record = await uow.repo.open_episode_for_update(change.ticket.id)
    if record is None:
        return []
    episode = record.episode
    by_requester = answered_by_requester(change.reason, change.actor_id, change.ticket.requester.id)
    ended = answer(episode, at) if by_requester else close_by_other(episode, at)
    await uow.repo.save_episode(ended)
    return [CancelTimer(episode.id)]


async def ticket_changed(uow: EscalationUnitOfWork, ticket: TicketSnapshot) -> None:
    """Any ticket event carries the snapshot: keep the newest on the open episode
    (``work_blocked`` or the requester's manager may have changed)."""
    await uow.repo.refresh_snapshot(ticket)


async def commented(uow: EscalationUnitOfWork, comment: TicketCommented, at: datetime) -> bool:
    """Refresh the snapshot; the mail gateway's note that the requester's out-of-office
    reply came in marks the episode away. True when an episode was newly marked."""
    await uow.repo.refresh_snapshot(comment.ticket)
    if comment.comment.note_kind != NoteKind.AUTO_REPLY:
        return False
    return await requester_away(uow, comment.ticket.id, at)


async def requester_away(uow: EscalationUnitOfWork, ticket_id: str, at: datetime) -> bool:
    """The requester's automatic away reply reached the ticket at ``at`` (event time): mark
    its open episode away. The ladder is untouched (the ticket still waits and reminders go
    on), so there is no timer change. True when an episode was newly marked.
    """
    record = await uow.repo.open_episode_for_update(ticket_id)
    if record is None:
        return False  # not waiting (any more): an away reply then says nothing about a wait
    marked = mark_away(record.episode, at)
    if marked is record.episode:
        return False
    await uow.repo.save_episode(marked)
    return True
