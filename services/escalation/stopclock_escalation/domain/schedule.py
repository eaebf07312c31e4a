"""When reminders and the final step fall due, in business time on the policy's calendar."""

from __future__ import annotations

from datetime import datetime

from stopclock_escalation.domain.policy import EscalationPolicy
from stopclock_shared.business_time import Calendar, add_business_seconds


def reminder_times(policy: EscalationPolicy, cal: Calendar, started_at: datetime) -> list[datetime]:
    """Instants of each reminder; offsets count from the start of waiting, not from each other."""
    return [add_business_seconds(cal, started_at, seconds) for seconds in policy.reminders]


def final_time(policy: EscalationPolicy, cal: Calendar, started_at: datetime) -> datetime:
    """Instant of the final step: the grace counted in business time after the last reminder."""
    last = policy.reminders[-1] if policy.reminders else 0
    due: datetime = add_business_seconds(cal, started_at, last + policy.final_grace_seconds)
    return due
