"""The responsiveness register: how a person answers when the desk waits on them.

Every figure covers the episodes that *started* within the last ``window_days``
(calendar days) before ``now``, judged as they stood at ``now``, so the counts and
the ``frequently_unresponsive`` flag always describe the same episodes.
Episodes the desk closed itself (``closed_by_other``) are reported as ``withdrawn``
and are not part of ``waiting_episodes``: they say nothing about the person.

Away episodes (the requester's automatic away reply arrived while the desk waited)
are part of ``waiting_episodes`` and counted in ``away_episodes`` whatever their
outcome. One that ended without an answer is ``away_unanswered``, never
``unanswered_episodes``: a person on holiday is not an unresponsive one, so it never
counts towards the manager rule. One that was answered is ``answered``, but its
response time (holiday included) stays out of the median.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from stopclock_escalation.domain.episode import (
    UNANSWERED_STATES,
    EpisodeState,
    WaitingEpisode,
    away_as_of,
    state_as_of,
)

DEFAULT_WINDOW_DAYS = 90
DEFAULT_MIN_UNRESPONSIVE_EPISODES = 2


@dataclass(frozen=True, slots=True)
class Responsiveness:
    """``waiting_episodes == answered + unanswered_episodes + open + away_unanswered``;
    ``away_episodes`` overlaps them (an away episode may be answered, open or not)."""

    waiting_episodes: int
    answered: int
    unanswered_episodes: int
    open: int
    withdrawn: int
    median_response_seconds: float | None
    frequently_unresponsive: bool
    away_episodes: int
    away_unanswered: int


@dataclass(frozen=True, slots=True)
class _Judged:
    episode: WaitingEpisode
    state: EpisodeState
    away: bool

    @property
    def unresponsive(self) -> bool:
        """Ended unanswered and not excused by an away reply: held against the requester."""
        return self.state in UNANSWERED_STATES and not self.away


def _in_window(
    episodes: Iterable[WaitingEpisode], now: datetime, window_days: int
) -> list[_Judged]:
    since = now - timedelta(days=window_days)
    judged = []
    for episode in episodes:
        state = state_as_of(episode, now)
        if state is not None and episode.started_at >= since:
            judged.append(_Judged(episode, state, away_as_of(episode, now)))
    return judged


def unanswered_in_window(
    episodes: Iterable[WaitingEpisode], now: datetime, window_days: int
) -> int:
    """How many of ``episodes`` started in the window and were unanswered as of ``now``,
    away episodes left out (the count the manager rule uses)."""
    return sum(j.unresponsive for j in _in_window(episodes, now, window_days))


def responsiveness(
    episodes: Iterable[WaitingEpisode],
    now: datetime,
    window_days: int = DEFAULT_WINDOW_DAYS,
    min_unresponsive: int = DEFAULT_MIN_UNRESPONSIVE_EPISODES,
) -> Responsiveness:
    """The register entry of one person from all their episodes."""
    judged = _in_window(episodes, now, window_days)
    withdrawn = sum(j.state is EpisodeState.CLOSED_BY_OTHER for j in judged)
    waiting = [j for j in judged if j.state is not EpisodeState.CLOSED_BY_OTHER]
    answered = [j for j in waiting if j.state is EpisodeState.ANSWERED]
    answered_seconds = [
        j.episode.response_seconds
        for j in answered
        if j.episode.response_seconds is not None and not j.away
    ]
    unanswered = sum(j.unresponsive for j in waiting)
    return Responsiveness(
        waiting_episodes=len(waiting),
        answered=len(answered),
        unanswered_episodes=unanswered,
        open=sum(j.state is EpisodeState.OPEN for j in waiting),
        withdrawn=withdrawn,
        median_response_seconds=(
            float(statistics.median(answered_seconds)) if answered_seconds else None
        ),
        frequently_unresponsive=unanswered >= min_unresponsive,
        away_episodes=sum(j.away for j in waiting),
        away_unanswered=sum(j.away and j.state in UNANSWERED_STATES for j in waiting),
    )
