"""The policy used when no stored escalation policy matches a ticket.

Decision: a waiting ticket is never left unchased for want of configuration, so a
built-in policy applies: reminders 1 and 3 days after waiting starts, the final step
one day after the last reminder (day 4), on the ``24x7`` calendar (days, not business
days: every desk has this calendar, and a calendar we do not know would be a guess),
with the product's manager rule (work blocked, 2 unanswered episodes in 90 days).

It sorts after every stored policy and is replaced by a stored policy named
``default`` when the desk defines one.
"""

from __future__ import annotations

from stopclock_escalation.domain.policy import (
    ALWAYS_CALENDAR,
    EscalationPolicy,
    ManagerEscalationRule,
    PolicyMatch,
)

BUILTIN_NAME = "default"
_DAY = 86_400
BUILTIN_REMINDERS = (1 * _DAY, 3 * _DAY)
BUILTIN_GRACE_SECONDS = 1 * _DAY
BUILTIN_ORDER = 2**31 - 1  # after any order a desk would pick


def builtin_policy(desk_manager_email: str) -> EscalationPolicy:
    """The built-in fallback, telling ``desk_manager_email`` when the desk manager is needed."""
    return EscalationPolicy(
        name=BUILTIN_NAME,
        match=PolicyMatch(),
        order=BUILTIN_ORDER,
        reminders=BUILTIN_REMINDERS,
        final_grace_seconds=BUILTIN_GRACE_SECONDS,
        calendar=ALWAYS_CALENDAR,
        desk_manager_email=desk_manager_email,
        manager_escalation=ManagerEscalationRule(),
    )
