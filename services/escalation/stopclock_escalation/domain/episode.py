"""A waiting episode: one stretch of a ticket in ``waiting_on_user``, seen from its requester.

States::

    open ─┬─ answered              the requester replied (public comment)
          ├─ escalated_to_manager  final step: the manager (or the desk manager) was told
          ├─ auto_resolved         final step: the ticket was resolved for lack of response
          └─ closed_by_other       the desk ended the wait: agent resumed, resolved or
                                   cancelled the ticket before the requester answered

Who counts as unresponsive: only ``escalated_to_manager`` and ``auto_resolved`` are
*unanswered*. ``closed_by_other`` is neutral (neither answered nor unanswered): the
desk ended the wait itself, often because the requester replied through another
channel, so it is no evidence against the requester and must not push them towards
a manager escalation.

Away: when the requester's automatic "I am away" reply reaches the ticket while the
episode is open, the episode is marked away (``away_at``). That is not a state: the
ticket still waits, reminders go on, and the episode still ends in one of the states
above. It changes how the episode is judged: an away episode is never held against
the requester (it never counts as unanswered, and it is not escalated to a manager;
see ``decision.decide_final``).

The episode keeps the schedule and policy it started with, so a policy change never
moves the reminders of a ticket already waiting (API.md, "Common").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from stopclock_escalation.domain.policy import EscalationPolicy
from stopclock_escalation.domain.schedule import final_time, reminder_times
from stopclock_shared.business_time import Calendar
from stopclock_shared.events.vocabulary import REQUESTER_ANSWERED, Status

WAITING = Status.WAITING_ON_USER  # the ticket status that opens an episode


class EpisodeState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    ESCALATED_TO_MANAGER = "escalated_to_manager"
    AUTO_RESOLVED = "auto_resolved"
    CLOSED_BY_OTHER = "closed_by_other"


UNANSWERED_STATES = frozenset({EpisodeState.ESCALATED_TO_MANAGER, EpisodeState.AUTO_RESOLVED})


@dataclass(frozen=True, slots=True)
class WaitingEpisode:
    """State of one episode; ``reminders_sent`` counts reminders already emitted."""

    id: str
    ticket_id: str
    requester_id: str
    policy: EscalationPolicy
    started_at: datetime
    reminders_at: tuple[datetime, ...]
    final_at: datetime
    reminders_sent: int = 0
    state: EpisodeState = EpisodeState.OPEN
    ended_at: datetime | None = None
    # Wall-clock seconds from the start of waiting to the answer (answered only).
    response_seconds: float | None = None
    # When the requester's automatic away reply arrived (event time); None: never.
    away_at: datetime | None = None

    @property
    def reminder_count(self) -> int:
        """How many reminders the ladder has (the N of "reminder n of N")."""
        return len(self.reminders_at)


def start_episode(
    *,
    episode_id: str,
    ticket_id: str,
    requester_id: str,
    policy: EscalationPolicy,
    cal: Calendar,
    started_at: datetime,
) -> WaitingEpisode:
    """Open an episode at ``started_at`` (the event time the ticket entered waiting)."""
    if started_at.tzinfo is None:
        raise ValueError("started_at must be timezone-aware")
    return WaitingEpisode(
        id=episode_id,
        ticket_id=ticket_id,
        requester_id=requester_id,
        policy=policy,
        started_at=started_at,
        reminders_at=tuple(reminder_times(policy, cal, started_at)),
        final_at=final_time(policy, cal, started_at),
    )


def answered_by_requester(reason: str | None, actor_id: str | None, requester_id: str) -> bool:
    """Whether a ticket leaving ``waiting_on_user`` is the requester's answer (else the
    desk ended the wait itself)."""
    return reason == REQUESTER_ANSWERED or (actor_id is not None and actor_id == requester_id)


def answer(episode: WaitingEpisode, at: datetime) -> WaitingEpisode:
    """The requester answered at ``at``; a no-op once the episode has ended.

    An answer that reaches us before the final step was processed wins even if its
    event time is past ``final_at``: the requester did reply, and acting on that beats
    resolving a ticket they just answered. Response time is wall-clock, never negative.
    """
    if episode.state is not EpisodeState.OPEN:
        return episode
    waited = max(0.0, (at - episode.started_at).total_seconds())
    return replace(episode, state=EpisodeState.ANSWERED, ended_at=at, response_seconds=waited)


def close_by_other(episode: WaitingEpisode, at: datetime) -> WaitingEpisode:
    """The desk ended the wait (resumed, resolved or cancelled); a no-op once ended."""
    if episode.state is not EpisodeState.OPEN:
        return episode
    return replace(episode, state=EpisodeState.CLOSED_BY_OTHER, ended_at=at)


def mark_away(episode: WaitingEpisode, at: datetime) -> WaitingEpisode:
    """The requester's automatic away reply arrived at ``at``; a no-op once ended or away.

    The first away reply counts (later ones say nothing new). A reply stamped before the
    wait began (a slow auto-reply to an earlier mail) marks the episode from its start.
    One stamped after ``final_at`` comes too late: the final step is decided as things
    stood at its due time, and the register must tell the same story as that step.
    """
    if episode.state is not EpisodeState.OPEN or episode.away_at is not None:
        return episode
    if at > episode.final_at:
        return episode
    return replace(episode, away_at=max(at, episode.started_at))


def away_as_of(episode: WaitingEpisode, when: datetime) -> bool:
    """True when the episode had been marked away by ``when`` (event time)."""
    return episode.away_at is not None and episode.away_at <= when


def state_as_of(episode: WaitingEpisode, when: datetime) -> EpisodeState | None:
    """The state the episode had at ``when``; None if it had not started yet.

    Lets the register and the decision be computed for an event time, so replaying
    events gives the same answers whatever was stored since.
    """
    if episode.started_at > when:
        return None
    if episode.ended_at is not None and episode.ended_at > when:
        return EpisodeState.OPEN
    return episode.state
