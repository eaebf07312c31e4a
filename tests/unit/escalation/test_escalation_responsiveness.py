from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_escalation.domain.episode import EpisodeState, WaitingEpisode
from stopclock_escalation.domain.responsiveness import (
    Responsiveness,
    responsiveness,
    unanswered_in_window,
)

from .escalation_builders import HOUR, T0, an_ended_episode, an_episode

NOW = T0 + timedelta(days=100)
ANSWERED = EpisodeState.ANSWERED
AUTO = EpisodeState.AUTO_RESOLVED
MANAGER = EpisodeState.ESCALATED_TO_MANAGER
OTHER = EpisodeState.CLOSED_BY_OTHER


def ended(state: EpisodeState, days_ago: int, hours: float = 5, n: int = 0) -> WaitingEpisode:
    return an_ended_episode(
        state,
        NOW - timedelta(days=days_ago),
        episode_id=f"{state}-{days_ago}-{n}",
        lasted=timedelta(hours=hours),
    )


def test_a_person_never_waited_on_has_an_empty_register() -> None:
    assert responsiveness([], NOW) == Responsiveness(
        waiting_episodes=0,
        answered=0,
        unanswered_episodes=0,
        open=0,
        withdrawn=0,
        median_response_seconds=None,
        frequently_unresponsive=False,
        away_episodes=0,
        away_unanswered=0,
    )


@pytest.mark.parametrize(
    ("episodes", "waiting", "answered", "unanswered", "frequent"),
    [
        ([ended(ANSWERED, 3)], 1, 1, 0, False),
        ([ended(AUTO, 3)], 1, 0, 1, False),
        ([ended(AUTO, 3), ended(MANAGER, 40)], 2, 0, 2, True),
        # outside the 90-day window: forgotten
        ([ended(AUTO, 3), ended(AUTO, 91)], 1, 0, 1, False),
        # the desk closed it itself: neither answered nor unanswered
        ([ended(AUTO, 3), ended(OTHER, 5)], 1, 0, 1, False),
        ([ended(ANSWERED, 1), ended(AUTO, 2), ended(ANSWERED, 3), ended(AUTO, 4)], 4, 2, 2, True),
    ],
)
def test_the_register_counts_recent_episodes_by_outcome(
    episodes: list[WaitingEpisode], waiting: int, answered: int, unanswered: int, frequent: bool
) -> None:
    entry = responsiveness(episodes, NOW)
    assert (entry.waiting_episodes, entry.answered, entry.unanswered_episodes) == (
        waiting,
        answered,
        unanswered,
    )
    assert entry.frequently_unresponsive is frequent


@pytest.mark.parametrize(
    ("hours", "median"),
    [([2], 2 * HOUR), ([1, 9, 3], 3 * HOUR), ([1, 2, 3, 10], 2.5 * HOUR)],
)
def test_the_median_response_time_covers_answered_episodes_only(
    hours: list[float], median: float
) -> None:
    episodes = [ended(ANSWERED, 10, h, n) for n, h in enumerate(hours)] + [ended(AUTO, 5)]
    assert responsiveness(episodes, NOW).median_response_seconds == median


def test_the_window_and_minimum_come_from_the_caller() -> None:
    episodes = [ended(AUTO, 3), ended(AUTO, 20), ended(AUTO, 45)]
    assert (
        responsiveness(episodes, NOW, window_days=30, min_unresponsive=3).unanswered_episodes == 2
    )
    assert not responsiveness(
        episodes, NOW, window_days=30, min_unresponsive=3
    ).frequently_unresponsive
    assert responsiveness(episodes, NOW, window_days=60, min_unresponsive=3).frequently_unresponsive


def test_an_episode_is_judged_as_it_stood_at_now() -> None:
    answered_later = ended(ANSWERED, 2, hours=72)  # answered one day after NOW
    entry = responsiveness([answered_later], NOW)
    assert (entry.open, entry.answered, entry.median_response_seconds) == (1, 0, None)


def test_episodes_starting_after_now_are_not_counted() -> None:
    future = an_episode(started_at=NOW + timedelta(hours=1))
    assert responsiveness([future], NOW).waiting_episodes == 0


def test_an_open_episode_is_waiting_but_neither_answered_nor_unanswered() -> None:
    entry = responsiveness([an_episode(started_at=NOW - timedelta(days=1))], NOW)
    assert (entry.waiting_episodes, entry.open, entry.answered, entry.unanswered_episodes) == (
        1,
        1,
        0,
        0,
    )


states = st.sampled_from(list(EpisodeState))


@st.composite
def episode_lists(draw: st.DrawFn) -> list[WaitingEpisode]:
    episodes = []
    for n in range(draw(st.integers(0, 12))):
        state = draw(states)
        started = NOW - timedelta(seconds=draw(st.integers(-5 * 86_400, 200 * 86_400)))
        base = an_episode(f"e{n}", started)
        if state is EpisodeState.OPEN:
            episodes.append(base)
            continue
        lasted = timedelta(seconds=draw(st.integers(0, 30 * 86_400)))
        episodes.append(
            replace(
                base,
                state=state,
                ended_at=started + lasted,
                response_seconds=lasted.total_seconds() if state is ANSWERED else None,
            )
        )
    return [replace(e, away_at=draw(away_times(e))) for e in episodes]


def away_times(episode: WaitingEpisode) -> st.SearchStrategy[datetime | None]:
    """Never away, or away at some instant between the start and the end (or a while on)."""
    end = episode.ended_at or episode.started_at + timedelta(days=30)
    lifetime = int((end - episode.started_at).total_seconds())
    return st.none() | st.integers(0, lifetime).map(
        lambda seconds: episode.started_at + timedelta(seconds=seconds)
    )


@settings(deadline=None)
@given(episodes=episode_lists(), window=st.integers(1, 365), minimum=st.integers(1, 5))
def test_every_waiting_episode_is_answered_unanswered_or_open(
    episodes: list[WaitingEpisode], window: int, minimum: int
) -> None:
    entry = responsiveness(episodes, NOW, window, minimum)
    assert (
        entry.answered + entry.unanswered_episodes + entry.open + entry.away_unanswered
        == entry.waiting_episodes
    )
    assert entry.away_unanswered <= entry.away_episodes <= entry.waiting_episodes
    assert entry.waiting_episodes + entry.withdrawn <= len(episodes)
    assert entry.frequently_unresponsive is (entry.unanswered_episodes >= minimum)


@settings(deadline=None)
@given(episodes=episode_lists())
def test_the_median_lies_between_the_fastest_and_slowest_answer(
    episodes: list[WaitingEpisode],
) -> None:
    entry = responsiveness(episodes, NOW)
    times = [
        e.response_seconds
        for e in episodes
        if e.response_seconds is not None
        and e.ended_at is not None
        and e.ended_at <= NOW
        and NOW - timedelta(days=90) <= e.started_at
        and not (e.away_at is not None and e.away_at <= NOW)
    ]
    if not times:
        assert entry.median_response_seconds is None
    else:
        assert entry.median_response_seconds is not None
        assert min(times) <= entry.median_response_seconds <= max(times)


# --- away episodes (the requester's automatic away reply arrived) -------------------------

H = timedelta(hours=1)


def away(state: EpisodeState, days_ago: int, hours: float = 5, n: int = 0) -> WaitingEpisode:
    """An episode whose away reply came an hour after it started."""
    episode = ended(state, days_ago, hours, n)
    return replace(episode, id=f"away-{episode.id}", away_at=episode.started_at + 1 * H)


def away_open(days_ago: int) -> WaitingEpisode:
    started = NOW - timedelta(days=days_ago)
    return replace(an_episode(f"away-open-{days_ago}", started), away_at=started + 1 * H)


@pytest.mark.parametrize(
    ("episodes", "counts"),
    [
        # counts: (waiting, answered, unanswered, open, away, away_unanswered, frequent)
        # on holiday to the end: resolved, but held against no one
        ([away(AUTO, 3)], (1, 0, 0, 0, 1, 1, False)),
        # two holidays are not two unanswered episodes
        ([away(AUTO, 3), away(AUTO, 40)], (2, 0, 0, 0, 2, 2, False)),
        # one real silence beside a holiday: one unanswered episode, not frequent
        ([away(AUTO, 3), ended(AUTO, 40)], (2, 0, 1, 0, 1, 1, False)),
        # whatever ended it, an away episode is not unanswered
        ([away(MANAGER, 3), ended(AUTO, 10)], (2, 0, 1, 0, 1, 1, False)),
        # back from holiday and answered: answered, and still an away episode
        ([away(ANSWERED, 3)], (1, 1, 0, 0, 1, 0, False)),
        # still waiting, away
        ([away_open(1)], (1, 0, 0, 1, 1, 0, False)),
        # the desk withdrew it: withdrawn, not part of the waiting episodes at all
        ([away(OTHER, 3)], (0, 0, 0, 0, 0, 0, False)),
        # outside the window: forgotten like any other
        ([away(AUTO, 91), ended(AUTO, 3)], (1, 0, 1, 0, 0, 0, False)),
        # two real silences are frequent, a holiday beside them changes nothing
        ([ended(AUTO, 3), ended(MANAGER, 20), away(AUTO, 30)], (3, 0, 2, 0, 1, 1, True)),
    ],
)
def test_away_episodes_are_reported_and_never_counted_as_unanswered(
    episodes: list[WaitingEpisode], counts: tuple[int, int, int, int, int, int, bool]
) -> None:
    entry = responsiveness(episodes, NOW)
    assert (
        entry.waiting_episodes,
        entry.answered,
        entry.unanswered_episodes,
        entry.open,
        entry.away_episodes,
        entry.away_unanswered,
        entry.frequently_unresponsive,
    ) == counts


def test_the_time_away_stays_out_of_the_median_response_time() -> None:
    episodes = [ended(ANSWERED, 10, hours=2), away(ANSWERED, 20, hours=14 * 24)]
    assert responsiveness(episodes, NOW).median_response_seconds == 2 * HOUR


def test_an_away_reply_after_now_does_not_make_the_episode_away_yet() -> None:
    later = replace(ended(AUTO, 3), away_at=NOW + H)
    entry = responsiveness([later], NOW)
    assert (entry.away_episodes, entry.unanswered_episodes) == (0, 1)


def test_the_manager_rule_count_leaves_away_episodes_out() -> None:
    episodes = [away(AUTO, 3), away(MANAGER, 5), ended(AUTO, 7)]
    assert unanswered_in_window(episodes, NOW, 90) == 1


@settings(deadline=None)
@given(
    episodes=episode_lists(),
    chosen=st.sets(st.integers(0, 11)),
    window=st.integers(1, 365),
    minimum=st.integers(1, 5),
)
def test_marking_episodes_away_never_increases_the_unresponsive_count(
    episodes: list[WaitingEpisode], chosen: set[int], window: int, minimum: int
) -> None:
    marked = [
        replace(e, away_at=e.away_at or e.started_at) if n in chosen else e
        for n, e in enumerate(episodes)
    ]
    before = responsiveness(episodes, NOW, window, minimum)
    after = responsiveness(marked, NOW, window, minimum)
    assert after.unanswered_episodes <= before.unanswered_episodes
    assert unanswered_in_window(marked, NOW, window) <= unanswered_in_window(episodes, NOW, window)
    assert not (after.frequently_unresponsive and not before.frequently_unresponsive)
    # Being away changes how an episode is judged, not whether it is counted.
    assert after.waiting_episodes == before.waiting_episodes
    assert after.away_episodes >= before.away_episodes
