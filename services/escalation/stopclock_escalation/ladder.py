"""Firing an episode's timer: take the due steps of its ladder, record and announce them.

Runs under a row lock on the episode, and the domain never repeats a step already
taken, so two replicas firing the same timer (a rebalance in flight) act once.
Functions never commit; the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.events.types import EventType
from stopclock_shared.outbox import Outbox

from . import repository as repo
from .domain.episode import EpisodeState
from .domain.timers import (
    NO_RESPONSE_REASON,
    EscalationAction,
    ManagerEscalated,
    RequesterFacts,
    RequesterReminded,
    TicketAutoResolved,
    fire,
    next_timer,
)
from .emit import emit, manager_ref
from .mapping import episode_from_row
from .waiting import ScheduleTimer


async def fire_episode(
    session: AsyncSession, outbox: Outbox, episode_id: uuid.UUID, now: datetime
) -> tuple[ScheduleTimer | None, tuple[EscalationAction, ...]]:
    """Take every step of the episode due by ``now``; returns the next timer and the steps."""
    row = await repo.get_episode(session, episode_id, for_update=True)
    if row is None or row["state"] != EpisodeState.OPEN:
        return None, ()
    episode = episode_from_row(row)
    ticket: dict[str, Any] = row["ticket"]
    requester: dict[str, Any] = ticket.get("requester") or {}
    window = timedelta(days=episode.policy.manager_escalation.window_days)
    # A superset of the window: every step falls at or after the start of waiting.
    history = await repo.episodes_of_requester(
        session, episode.requester_id, episode.started_at - window
    )
    facts = RequesterFacts(
        work_blocked=bool(ticket.get("work_blocked")),
        difficult=bool(requester.get("difficult")),
        manager_known=bool(requester.get("manager_email")),
        locale=requester.get("locale"),
        history=[episode_from_row(r) for r in history],
    )
    fired, actions = fire(episode, now, facts)
    for action in actions:
        await _record(session, outbox, action, ticket, row["correlation_id"])
    timer = next_timer(fired)
    await repo.update_episode(
        session,
        episode_id,
        {
            "reminders_sent": fired.reminders_sent,
            "state": fired.state.value,
            "ended_at": fired.ended_at,
            "next_due_at": timer.at if timer else None,
        },
    )
    schedule = ScheduleTimer(fired.id, timer.at, row["partition"]) if timer else None
    return schedule, actions


async def _record(
    session: AsyncSession,
    outbox: Outbox,
    action: EscalationAction,
    ticket: dict[str, Any],
    correlation_id: str | None,
) -> None:
    ticket_id = str(ticket["id"])

    async def note(kind: str) -> None:
        await repo.insert_escalation(
            session,
            ticket_id=uuid.UUID(ticket_id),
            episode_id=uuid.UUID(action.episode_id),
            kind=kind,
            level=action.level,
            detail=action.detail,
            at=action.at,
        )

    async def announce(type_: str, data: dict[str, Any], *, command: bool = False) -> None:
        await emit(
            session,
            outbox,
            type_,
            ticket_id,
            data,
            action.at,
            correlation_id=correlation_id,
            command=command,
        )

    if isinstance(action, RequesterReminded):
        await note("reminder")
        await announce(
            EventType.ESCALATION_REMINDER,
            {
                "ticket": ticket,
                "level": action.level,
                "of": action.of,
                "next_step": action.next_step.value,
                "deadline": action.deadline.isoformat(),
            },
        )
    elif isinstance(action, ManagerEscalated):
        await note("manager_escalation")
        requester = ticket.get("requester") or {}
        await announce(
            EventType.ESCALATION_MANAGER,
            {
                "ticket": ticket,
                "manager": None if action.to_desk_manager else manager_ref(requester),
                "to_desk_manager": action.to_desk_manager,
                "desk_manager_email": action.desk_manager_email,
                "unanswered_episodes": action.unanswered_episodes,
            },
        )
    elif isinstance(action, TicketAutoResolved):
        await note("auto_resolve")
        await announce(
            EventType.ESCALATION_AUTO_RESOLVE,
            {"ticket": ticket, "resolution": action.resolution},
        )
        await announce(
            EventType.COMMAND_RESOLVE,
            {"ticket_id": ticket_id, "resolution": action.resolution, "reason": NO_RESPONSE_REASON},
            command=True,
        )
