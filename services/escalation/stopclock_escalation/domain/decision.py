"""The final step for a requester who did not answer: manager, desk manager, or resolve.

The rule is fixed by the product: escalate only when the issue stops the requester
from working (unless the policy waives that) AND the requester is frequently
unresponsive or flagged difficult; otherwise resolve the ticket for lack of response.

An away episode (the requester's automatic away reply arrived) is always resolved for
lack of response, never escalated: telling a manager that someone on holiday did not
answer is exactly what the rule exists to avoid, while resolving costs the requester
nothing (their answer, whenever it comes, reopens the ticket).
"""

from __future__ import annotations

from enum import StrEnum

from stopclock_shared.events.vocabulary import NextStep


class Decision(StrEnum):
    """The final step of a ladder whose requester never answered."""

    ESCALATE_TO_MANAGER = "escalate_to_manager"
    # No manager on record: the desk manager is told instead, and told why.
    ESCALATE_TO_DESK_MANAGER = "escalate_to_desk_manager"
    AUTO_RESOLVE = "auto_resolve"


def decide_final(
    *,
    work_blocked: bool,
    unanswered_episodes_in_window: int,
    min_unresponsive_episodes: int,
    difficult: bool,
    manager_known: bool,
    requires_work_blocked: bool,
    away: bool = False,
) -> Decision:
    """Apply the manager-escalation rule.

    ``unanswered_episodes_in_window`` must already include the episode being
    decided (it is unanswered at that point) unless it is ``away``; see ``ladder.fire``.
    """
    if away:
        return Decision.AUTO_RESOLVE
    blocked_enough = work_blocked or not requires_work_blocked
    unresponsive = unanswered_episodes_in_window >= min_unresponsive_episodes or difficult
    if not (blocked_enough and unresponsive):
        return Decision.AUTO_RESOLVE
    return Decision.ESCALATE_TO_MANAGER if manager_known else Decision.ESCALATE_TO_DESK_MANAGER


def next_step_for(decision: Decision) -> NextStep:
    """The ``next_step`` a last reminder announces for a given final decision."""
    if decision is Decision.AUTO_RESOLVE:
        return NextStep.AUTO_RESOLVE
    return NextStep.MANAGER_ESCALATION
