import pytest

from stopclock_escalation.domain.decision import Decision, decide_final, next_step_for
from stopclock_shared.events.vocabulary import NextStep

TO_MANAGER = Decision.ESCALATE_TO_MANAGER
TO_DESK = Decision.ESCALATE_TO_DESK_MANAGER
RESOLVE = Decision.AUTO_RESOLVE


@pytest.mark.parametrize(
    ("work_blocked", "unanswered", "difficult", "manager_known", "requires_blocked", "expected"),
    [
        # blocked and frequently unresponsive: the manager hears of it
        (True, 2, False, True, True, TO_MANAGER),
        (True, 5, False, True, True, TO_MANAGER),
        # blocked and difficult, even on a first unanswered episode
        (True, 1, True, True, True, TO_MANAGER),
        # blocked but answering usually: resolve for lack of response
        (True, 1, False, True, True, RESOLVE),
        # not blocked: never bother a manager, however unresponsive or difficult
        (False, 9, True, True, True, RESOLVE),
        # ...unless the policy waives the work-blocked condition
        (False, 2, False, True, False, TO_MANAGER),
        (False, 1, True, True, False, TO_MANAGER),
        (False, 1, False, True, False, RESOLVE),
        # no manager on record: the desk manager is told instead
        (True, 2, False, False, True, TO_DESK),
        (True, 1, True, False, True, TO_DESK),
        # no manager does not turn a resolve into an escalation
        (True, 1, False, False, True, RESOLVE),
    ],
)
def test_escalation_needs_a_blocked_requester_who_is_unresponsive_or_difficult(
    work_blocked: bool,
    unanswered: int,
    difficult: bool,
    manager_known: bool,
    requires_blocked: bool,
    expected: Decision,
) -> None:
    decision = decide_final(
        work_blocked=work_blocked,
        unanswered_episodes_in_window=unanswered,
        min_unresponsive_episodes=2,
        difficult=difficult,
        manager_known=manager_known,
        requires_work_blocked=requires_blocked,
    )
    assert decision is expected


@pytest.mark.parametrize(("minimum", "expected"), [(3, RESOLVE), (2, TO_MANAGER), (1, TO_MANAGER)])
def test_the_policy_minimum_sets_how_many_unanswered_episodes_are_frequent(
    minimum: int, expected: Decision
) -> None:
    decision = decide_final(
        work_blocked=True,
        unanswered_episodes_in_window=2,
        min_unresponsive_episodes=minimum,
        difficult=False,
        manager_known=True,
        requires_work_blocked=True,
    )
    assert decision is expected


@pytest.mark.parametrize(
    ("decision", "step"),
    [
        (TO_MANAGER, NextStep.MANAGER_ESCALATION),
        (TO_DESK, NextStep.MANAGER_ESCALATION),
        (RESOLVE, NextStep.AUTO_RESOLVE),
    ],
)
def test_a_last_reminder_announces_the_final_decision(decision: Decision, step: NextStep) -> None:
    assert next_step_for(decision) is step
