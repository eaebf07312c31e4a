"""What the escalation register records: the kinds of escalation, their levels, and the
detail of the escalations told at once (SLA warnings and breaches, negative feedback).

Levels: a ladder's reminder n has level n and its final step N + 1 (``ladder``); the
escalations told at once have fixed levels.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class EscalationKind(StrEnum):
    """``kind`` of an escalation (API.md, ``GET /escalations``)."""

    REMINDER = "reminder"
    MANAGER_ESCALATION = "manager_escalation"
    AUTO_RESOLVE = "auto_resolve"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    NEGATIVE_FEEDBACK = "negative_feedback"


SLA_WARNING_LEVEL = 1
SLA_BREACH_LEVEL = 2
NEGATIVE_FEEDBACK_LEVEL = 1
COMMENT_IN_DETAIL = 200  # characters of a survey comment kept in the detail


def sla_alert_detail(
    target: str, due_at: datetime | None, fraction: float | None, *, breach: bool
) -> str:
    """The detail of an ``sla_warning`` / ``sla_breach``."""
    due = due_at.isoformat() if due_at else "unknown"
    if breach:
        return f"{target} target breached (due {due})"
    share = f"{fraction:.0%}" if fraction is not None else "a warning threshold"
    return f"{target} target at {share} of its time (due {due})"


def feedback_detail(rating: int | None, resolved: bool | None, comment: str | None) -> str:
    """The detail of a ``negative_feedback``: the rating, a reopening, the comment's start."""
    parts = [f"rating {rating}/5" if rating is not None else "no rating"]
    if resolved is False:
        parts.append("not resolved: the ticket is reopened")
    if comment:
        text = comment.strip()
        cut = text[:COMMENT_IN_DETAIL] + ("…" if len(text) > COMMENT_IN_DETAIL else "")
        parts.append(f"comment: {cut}")
    return "negative feedback; " + "; ".join(parts)
