from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_escalation.domain.episode import EpisodeState, answer, close_by_other, start_episode
from stopclock_escalation.domain.ladder import (
    EscalationAction,
    ManagerEscalated,
    RequesterFacts,
    RequesterReminded,
    TicketAutoResolved,
    Timer,
    fire,
    next_timer,
)
from stopclock_escalation.domain.policy import ManagerEscalationRule
from stopclock_shared.business_time import Calendar
from stopclock_shared.events.vocabulary import NextStep

from .escalation_builders import DAY, HOUR, T0, a_policy, an_ended_episode, an_episode

CALM = RequesterFacts(work_blocked=False, difficult=False, manager_known=True)
BLOCKED_AND_DIFFICULT = RequesterFacts(work_blocked=True, difficult=True, manager_known=True)

# a_policy(): reminders at 1, 2 and 3 days, final a day after the last.
R1, R2, R3 = (T0 + timedelta(days=n) for n in (1, 2, 3))
FINAL = T0 + timedelta(days=4)


def test_a_new_episode_waits_for_its_first_reminder() -> None:
    assert next_timer(an_episode()) == Timer("reminder", 1, R1)


def test_after_the_last_reminder_the_final_step_is_the_next_rung() -> None:
    episode = replace(an_episode(), reminders_sent=3)
    assert next_timer(episode) == Timer("final", 4, FINAL)


def test_firing_before_anything_is_due_does_nothing() -> None:
    episode = an_episode()
    assert fire(episode, R1 - timedelta(seconds=1), CALM) == (episode, ())


def test_a_due_reminder_is_sent_as_level_n_of_n_and_announces_another_reminder() -> None:
    episode, actions = fire(an_episode(), R1, CALM)
    assert actions == (
        RequesterReminded(
            ticket_id="t-1",
            episode_id="ep-1",
            level=1,
            of=3,
            next_step=NextStep.REMINDER,
            deadline=FINAL,
            at=R1,
            detail="reminder 1 of 3; next step: reminder",
        ),
    )
    assert episode.reminders_sent == 1
    assert next_timer(episode) == Timer("reminder", 2, R2)


def test_a_reminder_is_never_sent_twice() -> None:
    once, _ = fire(an_episode(), R1 + timedelta(minutes=5), CALM)
    again, actions = fire(once, R1 + timedelta(minutes=10), CALM)
    assert actions == ()
    assert again == once


def test_a_late_timer_catches_up_every_due_reminder_stamped_with_its_due_time() -> None:
    _, actions = fire(an_episode(), R2 + timedelta(hours=7), CALM)
    assert [(a.level, a.at) for a in actions if isinstance(a, RequesterReminded)] == [
        (1, R1),
        (2, R2),
    ]


def test_the_last_reminder_announces_auto_resolve_for_a_requester_not_blocked() -> None:
    _, actions = fire(replace(an_episode(), reminders_sent=2), R3, CALM)
    assert [a.next_step for a in actions if isinstance(a, RequesterReminded)] == [
        NextStep.AUTO_RESOLVE
    ]


def test_the_last_reminder_announces_the_manager_for_a_blocked_difficult_requester() -> None:
    _, actions = fire(replace(an_episode(), reminders_sent=2), R3, BLOCKED_AND_DIFFICULT)
    assert [a.next_step for a in actions if isinstance(a, RequesterReminded)] == [
        NextStep.MANAGER_ESCALATION
    ]


def test_silence_to_the_end_resolves_the_ticket_for_lack_of_response() -> None:
    episode, actions = fire(an_episode(), FINAL, RequesterFacts(False, False, True, locale="en"))
    final = actions[-1]
    assert isinstance(final, TicketAutoResolved)
    assert (final.level, final.reminders, final.at) == (4, 3, FINAL)
    assert "after 3 reminders" in final.resolution
    assert episode.state is EpisodeState.AUTO_RESOLVED
    assert episode.ended_at == FINAL
    assert next_timer(episode) is None


def test_a_blocked_difficult_requester_goes_to_their_manager() -> None:
    episode, actions = fire(an_episode(), FINAL, BLOCKED_AND_DIFFICULT)
    final = actions[-1]
    assert isinstance(final, ManagerEscalated)
    assert final.to_desk_manager is False
    assert final.desk_manager_email == "desk.manager@example.com"
    assert episode.state is EpisodeState.ESCALATED_TO_MANAGER


def test_without_a_manager_the_desk_manager_is_told_and_told_why() -> None:
    no_manager = RequesterFacts(work_blocked=True, difficult=True, manager_known=False)
    _, actions = fire(an_episode(), FINAL, no_manager)
    final = actions[-1]
    assert isinstance(final, ManagerEscalated)
    assert final.to_desk_manager is True
    assert "no manager on record" in final.detail


def test_one_earlier_unanswered_episode_plus_this_one_is_frequent_enough() -> None:
    earlier = an_ended_episode(EpisodeState.AUTO_RESOLVED, T0 - timedelta(days=30))
    facts = RequesterFacts(
        work_blocked=True, difficult=False, manager_known=True, history=[earlier]
    )
    _, actions = fire(an_episode(), FINAL, facts)
    final = actions[-1]
    assert isinstance(final, ManagerEscalated)
    assert final.unanswered_episodes == 2


def test_unanswered_episodes_older_than_the_window_do_not_count() -> None:
    long_ago = an_ended_episode(EpisodeState.AUTO_RESOLVED, T0 - timedelta(days=120))
    facts = RequesterFacts(
        work_blocked=True, difficult=False, manager_known=True, history=[long_ago]
    )
    _, actions = fire(an_episode(), FINAL, facts)
    assert isinstance(actions[-1], TicketAutoResolved)


def test_episodes_the_desk_closed_itself_do_not_count_as_unanswered() -> None:
    withdrawn = an_ended_episode(EpisodeState.CLOSED_BY_OTHER, T0 - timedelta(days=10))
    facts = RequesterFacts(
        work_blocked=True, difficult=False, manager_known=True, history=[withdrawn]
    )
    _, actions = fire(an_episode(), FINAL, facts)
    assert isinstance(actions[-1], TicketAutoResolved)


def test_the_current_episode_in_the_history_is_counted_once() -> None:
    current = an_episode()
    already_stored = replace(current, state=EpisodeState.AUTO_RESOLVED, ended_at=T0)
    facts = RequesterFacts(
        work_blocked=True, difficult=False, manager_known=True, history=[already_stored]
    )
    _, actions = fire(current, FINAL, facts)
    assert isinstance(actions[-1], TicketAutoResolved)


def test_a_policy_that_waives_work_blocked_escalates_an_unblocked_difficult_requester() -> None:
    waived = a_policy(rule=ManagerEscalationRule(requires_work_blocked=False))
    facts = RequesterFacts(work_blocked=False, difficult=True, manager_known=True)
    _, actions = fire(an_episode(policy=waived), FINAL, facts)
    assert isinstance(actions[-1], ManagerEscalated)


def test_an_answered_episode_has_no_timer_and_fires_nothing() -> None:
    answered = answer(an_episode(), R1 + timedelta(hours=2))
    assert next_timer(answered) is None
    assert fire(answered, FINAL + timedelta(days=10), CALM) == (answered, ())


def test_an_answer_records_the_wall_clock_response_time() -> None:
    answered = answer(an_episode(), T0 + timedelta(hours=5))
    assert answered.state is EpisodeState.ANSWERED
    assert answered.response_seconds == 5 * HOUR
    assert answered.ended_at == T0 + timedelta(hours=5)


def test_an_answer_stamped_before_the_wait_began_counts_as_instant() -> None:
    assert answer(an_episode(), T0 - timedelta(seconds=3)).response_seconds == 0.0


@pytest.mark.parametrize(
    "end",
    [lambda e: answer(e, R1), lambda e: close_by_other(e, R1), lambda e: fire(e, FINAL, CALM)[0]],
)
def test_an_ended_episode_ignores_later_answers_and_closes(end) -> None:  # type: ignore[no-untyped-def]
    ended = end(an_episode())
    assert answer(ended, FINAL + timedelta(days=1)) == ended
    assert close_by_other(ended, FINAL + timedelta(days=1)) == ended


def test_a_naive_start_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        start_episode(
            episode_id="e",
            ticket_id="t",
            requester_id="p",
            policy=a_policy(),
            cal=Calendar.always(),
            started_at=datetime(2025, 1, 1, 9, 0),
        )


facts_strategy = st.builds(
    RequesterFacts,
    work_blocked=st.booleans(),
    difficult=st.booleans(),
    manager_known=st.booleans(),
)


@settings(deadline=None)
@given(
    offsets=st.lists(st.integers(1, 10 * DAY), min_size=1, max_size=5, unique=True),
    grace=st.integers(0, 5 * DAY),
    firings=st.lists(st.integers(0, 20 * DAY), min_size=1, max_size=8),
    facts=facts_strategy,
)
def test_firing_in_many_small_steps_equals_one_late_firing(
    offsets: list[int], grace: int, firings: list[int], facts: RequesterFacts
) -> None:
    start = an_episode(policy=a_policy(reminders=tuple(sorted(offsets)), grace=grace))
    stepped, stepped_actions = start, list[EscalationAction]()
    for offset in sorted(firings):
        stepped, actions = fire(stepped, T0 + timedelta(seconds=offset), facts)
        stepped_actions.extend(actions)
    late, late_actions = fire(start, T0 + timedelta(seconds=max(firings)), facts)
    assert stepped == late
    assert tuple(stepped_actions) == late_actions
    levels = [a.level for a in late_actions]
    assert levels == list(range(1, len(levels) + 1))


@settings(deadline=None)
@given(
    offsets=st.lists(st.integers(1, 10 * DAY), min_size=1, max_size=5, unique=True),
    facts=facts_strategy,
)
def test_an_unanswered_episode_always_ends_in_exactly_one_final_step(
    offsets: list[int], facts: RequesterFacts
) -> None:
    episode = an_episode(policy=a_policy(reminders=tuple(sorted(offsets))))
    ended, actions = fire(episode, datetime(2100, 1, 1, tzinfo=UTC), facts)
    finals = [a for a in actions if not isinstance(a, RequesterReminded)]
    assert len(finals) == 1
    assert len(actions) == len(offsets) + 1
    assert ended.state in {EpisodeState.AUTO_RESOLVED, EpisodeState.ESCALATED_TO_MANAGER}
    last_reminder = actions[-2]
    assert isinstance(last_reminder, RequesterReminded)
    promised = (
        NextStep.AUTO_RESOLVE
        if isinstance(finals[0], TicketAutoResolved)
        else NextStep.MANAGER_ESCALATION
    )
    assert last_reminder.next_step is promised
