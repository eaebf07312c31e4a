"""The escalation ladder of an open episode: reminders 1..N, then the final step.

``fire`` is event-time based: every step due by ``now`` happens, in order, each
once, stamped with the instant it was *due* (not when the timer ran), and decided
with the facts as they stood at that instant. A timer that runs late therefore
gives the same result as one that ran on time, and running it twice is harmless.

Levels: reminder n has level n (of N); the final step is the next rung, N + 1.

Counting unanswered episodes for the decision: the requester's past episodes that
started in the policy's window and were unanswered at the step's instant, plus the
current one, which is unanswered at that point. So with the default minimum of 2,
one earlier unanswered episode in 90 days is enough to escalate a blocked ticket.
Away episodes count for nothing, the current one included, and an episode away at the
step's instant ends in auto-resolve (``decision.decide_final``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from stopclock_escalation.domain.decision import Decision, decide_final, next_step_for
from stopclock_escalation.domain.episode import EpisodeState, WaitingEpisode, away_as_of
from stopclock_escalation.domain.escalations import EscalationKind
from stopclock_escalation.domain.resolution_text import auto_resolve_text
from stopclock_escalation.domain.responsiveness import unanswered_in_window
from stopclock_shared.events.vocabulary import NextStep


@dataclass(frozen=True, slots=True)
class Timer:
    """The next step of an episode and when it is due."""

    kind: Literal["reminder", "final"]
    level: int
    at: datetime


@dataclass(frozen=True, slots=True)
class RequesterFacts:
    """What the decision needs to know about the requester and ticket, latest known.

    ``history`` is the requester's episodes (the current one may be included; it is
    recognised by id and never counted twice).
    """

    work_blocked: bool
    difficult: bool
    manager_known: bool
    locale: str | None = None
    history: Sequence[WaitingEpisode] = ()


@dataclass(frozen=True, slots=True)
class RequesterReminded:
    ticket_id: str
    episode_id: str
    level: int
    of: int
    next_step: NextStep
    # When the final step will happen if nobody answers: the date a mail can promise.
    deadline: datetime
    at: datetime
    detail: str


@dataclass(frozen=True, slots=True)
class ManagerEscalated:
    ticket_id: str
    episode_id: str
    level: int
    # True when no manager is on record and the desk manager is told instead.
    to_desk_manager: bool
    desk_manager_email: str
    unanswered_episodes: int
    at: datetime
    detail: str


@dataclass(frozen=True, slots=True)
class TicketAutoResolved:
    """Ask the ticket service to resolve for lack of response (``ResolveReason.NO_RESPONSE``)
    with this resolution."""

    ticket_id: str
    episode_id: str
    level: int
    reminders: int
    resolution: str
    at: datetime
    detail: str


EscalationAction = RequesterReminded | ManagerEscalated | TicketAutoResolved


def kind_of(action: EscalationAction) -> EscalationKind:
    """How the register records a step."""
    if isinstance(action, RequesterReminded):
        return EscalationKind.REMINDER
    if isinstance(action, ManagerEscalated):
        return EscalationKind.MANAGER_ESCALATION
    return EscalationKind.AUTO_RESOLVE


@dataclass(frozen=True, slots=True)
class ScheduleTimer:
    """Once committed: (re)arm the episode's timer in the replica owning ``partition``."""

    episode_id: str
    due: datetime
    partition: int


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """Once committed: the episode ended, its timer goes."""

    episode_id: str


TimerChange = ScheduleTimer | CancelTimer


def next_timer(episode: WaitingEpisode) -> Timer | None:
    """The step to schedule next, or None when the episode has ended."""
    if episode.state is not EpisodeState.OPEN:
        return None
    if episode.reminders_sent < episode.reminder_count:
        level = episode.reminders_sent + 1
        return Timer("reminder", level, episode.reminders_at[level - 1])
    return Timer("final", episode.reminder_count + 1, episode.final_at)


def next_due(episode: WaitingEpisode) -> datetime | None:
    """When the episode's timer fires next (stored, so a replica rebuilds its timers)."""
    timer = next_timer(episode)
    return timer.at if timer else None


def _unanswered_including_current(
    episode: WaitingEpisode, facts: RequesterFacts, at: datetime
) -> int:
    past = [e for e in facts.history if e.id != episode.id]
    window = episode.policy.manager_escalation.window_days
    current = 0 if away_as_of(episode, at) else 1
    return unanswered_in_window(past, at, window) + current


def _decide(episode: WaitingEpisode, facts: RequesterFacts, at: datetime) -> tuple[Decision, int]:
    rule = episode.policy.manager_escalation
    unanswered = _unanswered_including_current(episode, facts, at)
    decision = decide_final(
        work_blocked=facts.work_blocked,
        unanswered_episodes_in_window=unanswered,
        min_unresponsive_episodes=rule.min_unresponsive_episodes,
        difficult=facts.difficult,
        manager_known=facts.manager_known,
        requires_work_blocked=rule.requires_work_blocked,
        away=away_as_of(episode, at),
    )
    return decision, unanswered


def _remind(
    episode: WaitingEpisode, timer: Timer, facts: RequesterFacts
) -> tuple[WaitingEpisode, RequesterReminded]:
    of = episode.reminder_count
    if timer.level < of:
        step = NextStep.REMINDER
    else:
        step = next_step_for(_decide(episode, facts, timer.at)[0])
    action = RequesterReminded(
        ticket_id=episode.ticket_id,
        episode_id=episode.id,
        level=timer.level,
        of=of,
        next_step=step,
        deadline=episode.final_at,
        at=timer.at,
        detail=f"reminder {timer.level} of {of}; next step: {step}",
    )
    return replace(episode, reminders_sent=timer.level), action


def _auto_resolve_detail(reminders: int, *, away: bool) -> str:
    if away:
        return (
            f"no answer after {reminders} reminder(s) while the requester is away "
            "(automatic reply); resolved for lack of response, not counted as unresponsive"
        )
    return f"no answer after {reminders} reminder(s); resolved for lack of response"


def _final(
    episode: WaitingEpisode, timer: Timer, facts: RequesterFacts
) -> tuple[WaitingEpisode, EscalationAction]:
    decision, unanswered = _decide(episode, facts, timer.at)
    policy = episode.policy
    if decision is Decision.AUTO_RESOLVE:
        reminders = episode.reminders_sent
        resolved = TicketAutoResolved(
            ticket_id=episode.ticket_id,
            episode_id=episode.id,
            level=timer.level,
            reminders=reminders,
            resolution=auto_resolve_text(reminders, facts.locale),
            at=timer.at,
            detail=_auto_resolve_detail(reminders, away=away_as_of(episode, timer.at)),
        )
        return replace(episode, state=EpisodeState.AUTO_RESOLVED, ended_at=timer.at), resolved
    to_desk = decision is Decision.ESCALATE_TO_DESK_MANAGER
    who = (
        "the requester has no manager on record, so the desk manager is told"
        if to_desk
        else "escalated to the requester's manager"
    )
    detail = (
        f"no answer after {episode.reminders_sent} reminder(s); {unanswered} unanswered "
        f"episode(s) in {policy.manager_escalation.window_days} days; {who}"
    )
    desk = policy.desk_manager_email
    escalated = ManagerEscalated(
        episode.ticket_id, episode.id, timer.level, to_desk, desk, unanswered, timer.at, detail
    )
    return replace(episode, state=EpisodeState.ESCALATED_TO_MANAGER, ended_at=timer.at), escalated


def fire(
    episode: WaitingEpisode, now: datetime, facts: RequesterFacts
) -> tuple[WaitingEpisode, tuple[EscalationAction, ...]]:
    """Take every step due by ``now``; returns the new episode and what happened.

    Steps already taken are never repeated; an ended episode yields nothing.
    """
    actions: list[EscalationAction] = []
    timer = next_timer(episode)
    while timer is not None and timer.at <= now:
        action: EscalationAction
        if timer.kind == "reminder":
            episode, action = _remind(episode, timer, facts)
        else:
            episode, action = _final(episode, timer, facts)
        actions.append(action)
        timer = next_timer(episode)
    return episode, tuple(actions)
