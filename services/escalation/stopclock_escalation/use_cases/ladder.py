"""Firing an episode's timer: take the due steps of its ladder, record and announce them.

Runs under a row lock on the episode, and the domain never repeats a step already
taken, so two replicas firing the same timer (a rebalance in flight) act once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..domain.episode import EpisodeState
from ..domain.ladder import (
    EscalationAction,
    RequesterFacts,
    ScheduleTimer,
    fire,
    kind_of,
    next_timer,
)
from ..events import ladder_events
from ..repository import EscalationUnitOfWork, NewEscalation


async def fire_ladder(
    uow: EscalationUnitOfWork, episode_id: str, now: datetime
) -> tuple[ScheduleTimer | None, tuple[EscalationAction, ...]]:
    """Take every step of the episode due by ``now``; returns the next timer and the steps."""
    record = await uow.repo.episode_for_update(episode_id)
    if record is None or record.episode.state is not EpisodeState.OPEN:
        return None, ()
    episode, ticket = record.episode, record.ticket
    requester = ticket.requester
    window = timedelta(days=episode.policy.manager_escalation.window_days)
    # A superset of the window: every step falls at or after the start of waiting.
    history = await uow.repo.episodes_of_requester(
        episode.requester_id, episode.started_at - window
    )
    facts = RequesterFacts(
        work_blocked=ticket.work_blocked,
        difficult=requester.difficult,
        manager_known=bool(requester.manager_email),
        locale=requester.locale,
        history=history,
    )
    fired, actions = fire(episode, now, facts)
    for action in actions:
        await uow.repo.insert_escalation(
            NewEscalation(
                ticket.id,
                kind_of(action),
                action.level,
                action.detail,
                action.at,
                action.episode_id,
            )
        )
        for topic, key, envelope in ladder_events(action, ticket, record.correlation_id):
            await uow.emit(topic, key, envelope)
    await uow.repo.save_episode(fired)
    timer = next_timer(fired)
    return (ScheduleTimer(fired.id, timer.at, record.partition) if timer else None), actions
