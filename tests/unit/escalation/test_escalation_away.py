"""Away episodes: the requester's automatic away reply arrived while the desk waited.

The ticket keeps waiting and the reminders go on; at the end of the ladder an away
episode is resolved for lack of response (never escalated), and it never counts
towards the manager rule, neither as the current episode nor as an earlier one.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_escalation.domain.decision import Decision, decide_final
from stopclock_escalation.domain.episode import (
    EpisodeState,
    WaitingEpisode,
    answer,
    away_as_of,
    mark_away,
)
from stopclock_escalation.domain.ladder import (
    ManagerEscalated,
    RequesterFacts,
    RequesterReminded,
    TicketAutoResolved,
    fire,
    next_timer,
)
from stopclock_shared.events.vocabulary import NextStep

from .escalation_builders import DAY, T0, an_ended_episode, an_episode

# an_episode(): reminders at 1, 2 and 3 days, final a day after the last.
R1, R3 = T0 + timedelta(days=1), T0 + timedelta(days=3)
FINAL = T0 + timedelta(days=4)
BLOCKED_AND_DIFFICULT = RequesterFacts(work_blocked=True, difficult=True, manager_known=True)


def away_from(at: datetime, episode: WaitingEpisode | None = None) -> WaitingEpisode:
    return mark_away(episode or an_episode(), at)


# --- marking ------------------------------------------------------------------------------


def test_an_away_reply_marks_the_open_episode_at_its_event_time() -> None:
    episode = away_from(T0 + timedelta(hours=2))
    assert episode.away_at == T0 + timedelta(hours=2)
    assert episode.state is EpisodeState.OPEN


def test_the_first_away_reply_counts_and_later_ones_change_nothing() -> None:
    first = away_from(T0 + timedelta(hours=2))
    assert mark_away(first, T0 + timedelta(days=2)) is first


def test_an_away_reply_stamped_before_the_wait_marks_it_from_its_start() -> None:
    assert away_from(T0 - timedelta(minutes=5)).away_at == T0


@pytest.mark.parametrize(
    "ended",
    [
        answer(an_episode(), T0 + timedelta(hours=1)),
        an_ended_episode(EpisodeState.AUTO_RESOLVED, T0),
        an_ended_episode(EpisodeState.CLOSED_BY_OTHER, T0),
    ],
)
def test_an_ended_episode_is_never_marked_away(ended: WaitingEpisode) -> None:
    assert mark_away(ended, T0 + timedelta(hours=2)) is ended


def test_an_away_reply_stamped_after_the_final_step_was_due_comes_too_late() -> None:
    episode = an_episode()
    assert mark_away(episode, FINAL + timedelta(seconds=1)) is episode
    assert mark_away(episode, FINAL).away_at == FINAL


def test_an_episode_is_away_from_the_reply_on() -> None:
    episode = away_from(R1)
    assert not away_as_of(episode, R1 - timedelta(seconds=1))
    assert away_as_of(episode, R1)
    assert not away_as_of(an_episode(), FINAL)


# --- the decision -------------------------------------------------------------------------


@pytest.mark.parametrize("manager_known", [True, False])
@pytest.mark.parametrize("requires_blocked", [True, False])
def test_an_away_requester_is_never_escalated_however_blocked_difficult_or_silent(
    manager_known: bool, requires_blocked: bool
) -> None:
    decision = decide_final(
        work_blocked=True,
        unanswered_episodes_in_window=9,
        min_unresponsive_episodes=2,
        difficult=True,
        manager_known=manager_known,
        requires_work_blocked=requires_blocked,
        away=True,
    )
    assert decision is Decision.AUTO_RESOLVE


# --- the ladder ---------------------------------------------------------------------------


def test_reminders_go_on_while_the_requester_is_away() -> None:
    episode, actions = fire(away_from(T0 + timedelta(hours=1)), R3, BLOCKED_AND_DIFFICULT)
    assert [(type(a), a.level) for a in actions] == [(RequesterReminded, n) for n in (1, 2, 3)]
    assert episode.state is EpisodeState.OPEN
    assert next_timer(episode) is not None


def test_an_away_episode_ends_resolved_for_lack_of_response_and_says_why() -> None:
    episode, actions = fire(away_from(T0 + timedelta(hours=1)), FINAL, BLOCKED_AND_DIFFICULT)
    final = actions[-1]
    assert isinstance(final, TicketAutoResolved)
    assert "away" in final.detail
    assert "not counted as unresponsive" in final.detail
    assert episode.state is EpisodeState.AUTO_RESOLVED
    last_reminder = actions[-2]
    assert isinstance(last_reminder, RequesterReminded)
    assert last_reminder.next_step is NextStep.AUTO_RESOLVE


def test_the_last_reminder_is_judged_as_things_stood_when_it_was_due() -> None:
    # Away only after the last reminder: that reminder promised the manager...
    episode = away_from(R3 + timedelta(hours=1))
    _, actions = fire(episode, FINAL, BLOCKED_AND_DIFFICULT)
    [last] = [a for a in actions if isinstance(a, RequesterReminded) and a.level == 3]
    assert last.next_step is NextStep.MANAGER_ESCALATION
    # ...but at the final step the requester is known to be away.
    assert isinstance(actions[-1], TicketAutoResolved)


def test_an_earlier_away_episode_does_not_make_the_requester_frequently_unresponsive() -> None:
    holiday = replace(
        an_ended_episode(EpisodeState.AUTO_RESOLVED, T0 - timedelta(days=20)),
        away_at=T0 - timedelta(days=20),
    )
    facts = RequesterFacts(
        work_blocked=True, difficult=False, manager_known=True, history=[holiday]
    )
    _, actions = fire(an_episode(), FINAL, facts)
    assert isinstance(actions[-1], TicketAutoResolved)
    # The same episode without the away reply would have sent this one to the manager.
    silent = replace(holiday, away_at=None)
    _, escalated = fire(an_episode(), FINAL, replace(facts, history=[silent]))
    assert isinstance(escalated[-1], ManagerEscalated)
    assert escalated[-1].unanswered_episodes == 2


history_episodes = st.lists(
    st.builds(
        lambda state, days, away: replace(
            an_ended_episode(state, T0 - timedelta(days=days), episode_id=f"h{days}-{state}"),
            away_at=(T0 - timedelta(days=days)) if away else None,
        ),
        state=st.sampled_from([EpisodeState.AUTO_RESOLVED, EpisodeState.ESCALATED_TO_MANAGER]),
        days=st.integers(1, 120),
        away=st.booleans(),
    ),
    max_size=6,
)


@settings(deadline=None)
@given(
    history=history_episodes,
    work_blocked=st.booleans(),
    difficult=st.booleans(),
    manager_known=st.booleans(),
    away_after=st.integers(0, 4 * DAY),
)
def test_an_away_episode_always_ends_in_auto_resolve_and_is_never_counted(
    history: list[WaitingEpisode],
    work_blocked: bool,
    difficult: bool,
    manager_known: bool,
    away_after: int,
) -> None:
    facts = RequesterFacts(work_blocked, difficult, manager_known, history=history)
    episode = away_from(T0 + timedelta(seconds=away_after))
    ended, actions = fire(episode, datetime(2100, 1, 1, tzinfo=UTC), facts)
    assert isinstance(actions[-1], TicketAutoResolved)
    assert ended.state is EpisodeState.AUTO_RESOLVED
    # Marking the past episodes away too can only move the decision away from the manager.
    excused = [replace(e, away_at=e.started_at) for e in history]
    _, plain = fire(an_episode(), FINAL, facts)
    _, with_excused = fire(an_episode(), FINAL, replace(facts, history=excused))
    if isinstance(plain[-1], TicketAutoResolved):
        assert isinstance(with_excused[-1], TicketAutoResolved)
    if isinstance(with_excused[-1], ManagerEscalated):
        assert difficult
