"""The responsiveness register: how a person answers when the desk waits on them.

Every figure covers the episodes that *started* within the last ``window_days``
(calendar days) before ``now``, judged as they stood at ``now``, so the counts and
the ``frequently_unresponsive`` flag always describe the same episodes.
Episodes the desk closed itself (``closed_by_other``) are reported as ``withdrawn``
and are not part of ``waiting_episodes``: they say nothing about the person.
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
    state_as_of,
)

DEFAULT_WINDOW_DAYS = 90
DEFAULT_MIN_UNRESPONSIVE_EPISODES = 2


@dataclass(frozen=True, slots=True)
class Responsiveness:
    """``waiting_episodes == answered + unanswered_episodes + open``."""

    waiting_episodes: int
    answered: int
    unanswered_episodes: int
    open: int
    withdrawn: int
    median_response_seconds: float | None
    frequently_unresponsive: bool


def _in_window(
    episodes: Iterable[WaitingEpisode], now: datetime, window_days: int
) -> list[tuple[WaitingEpisode, EpisodeState]]:
    since = now - timedelta(days=window_days)
    judged = []
    for episode in episodes:
        state = state_as_of(episode, now)
        if state is not None and episode.started_at >= since:
            judged.append((episode, state))
    return judged


def unanswered_in_window(
    episodes: Iterable[WaitingEpisode], now: datetime, window_days: int
) -> int:
    """How many of ``episodes`` started in the window and were unanswered as of ``now``."""
    return sum(state in UNANSWERED_STATES for _, state in _in_window(episodes, now, window_days))


def responsiveness(
    episodes: Iterable[WaitingEpisode],
    now: datetime,
    window_days: int = DEFAULT_WINDOW_DAYS,
    min_unresponsive: int = DEFAULT_MIN_UNRESPONSIVE_EPISODES,
) -> Responsiveness:
    """The register entry of one person from all their episodes."""
    judged = _in_window(episodes, now, window_days)
    answered = [episode for episode, state in judged if state is EpisodeState.ANSWERED]
    answered_seconds = [e.response_seconds for e in answered if e.response_seconds is not None]
    unanswered = sum(state in UNANSWERED_STATES for _, state in judged)
    still_open = sum(state is EpisodeState.OPEN for _, state in judged)
    withdrawn = sum(state is EpisodeState.CLOSED_BY_OTHER for _, state in judged)
    return Responsiveness(
        waiting_episodes=len(judged) - withdrawn,
        answered=len(answered),
        unanswered_episodes=unanswered,
        open=still_open,
        withdrawn=withdrawn,
        median_response_seconds=(
            float(statistics.median(answered_seconds)) if answered_seconds else None
        ),
        frequently_unresponsive=unanswered >= min_unresponsive,
    )
