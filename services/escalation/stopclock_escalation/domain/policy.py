"""Escalation policies: what to send a requester who keeps us waiting, and when.

A policy matches tickets the same way an SLA policy does: every match field it
gives must equal the ticket's, and among the matching policies the lowest
``order`` wins, ties broken by name so the choice never depends on storage order.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stopclock_shared.errors import FieldError

ALWAYS_CALENDAR = "24x7"  # exists everywhere (API.md, SLA service)
TICKET_TYPES: frozenset[str] = frozenset({"incident", "service_request"})
PRIORITIES: frozenset[str] = frozenset({"P1", "P2", "P3", "P4"})

# Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is SMTP's call.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EMAIL_MAX_LENGTH = 254  # RFC 5321 path limit


@dataclass(frozen=True, slots=True)
class PolicyMatch:
    """Which tickets a policy applies to; a field left as None matches anything."""

    type: str | None = None
    priority: str | None = None
    service: str | None = None


@dataclass(frozen=True, slots=True)
class ManagerEscalationRule:
    """When an unanswered ticket goes to the requester's manager instead of being resolved."""

    requires_work_blocked: bool = True
    min_unresponsive_episodes: int = 2
    window_days: int = 90


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """A named ladder of reminders, then a final step after ``final_grace_seconds``.

    ``reminders`` are business seconds after waiting starts (cumulative offsets, not
    gaps), on ``calendar``; the grace runs after the last reminder on the same calendar.
    """

    name: str
    match: PolicyMatch
    order: int
    reminders: tuple[int, ...]
    final_grace_seconds: int
    calendar: str
    desk_manager_email: str
    manager_escalation: ManagerEscalationRule = field(default_factory=ManagerEscalationRule)

    def matches(self, ticket_type: str, priority: str | None, service: str | None) -> bool:
        """True when every match field the policy gives equals the ticket's."""
        wanted = self.match
        return (
            (wanted.type is None or wanted.type == ticket_type)
            and (wanted.priority is None or wanted.priority == priority)
            and (wanted.service is None or wanted.service == service)
        )


def match_policy(
    policies: Iterable[EscalationPolicy],
    ticket_type: str,
    priority: str | None,
    service: str | None,
) -> EscalationPolicy | None:
    """The policy for a ticket: lowest ``order`` among the matching ones, then name; or None."""
    matching = [p for p in policies if p.matches(ticket_type, priority, service)]
    return min(matching, key=lambda p: (p.order, p.name), default=None)


def policy_from_spec(name: str, spec: Mapping[str, Any]) -> EscalationPolicy:
    """A policy from its JSON form (the PUT body, as stored and as an episode keeps it)."""
    match = spec.get("match") or {}
    rule = spec.get("manager_escalation") or {}
    return EscalationPolicy(
        name=name,
        match=PolicyMatch(
            type=match.get("type"), priority=match.get("priority"), service=match.get("service")
        ),
        order=int(spec["order"]),
        reminders=tuple(int(s) for s in spec["reminders"]),
        final_grace_seconds=int(spec["final_grace_seconds"]),
        calendar=str(spec["calendar"]),
        desk_manager_email=str(spec["desk_manager_email"]),
        manager_escalation=ManagerEscalationRule(
            requires_work_blocked=bool(rule.get("requires_work_blocked", True)),
            min_unresponsive_episodes=int(rule.get("min_unresponsive_episodes", 2)),
            window_days=int(rule.get("window_days", 90)),
        ),
    )


def policy_to_spec(policy: EscalationPolicy) -> dict[str, Any]:
    """The JSON form of a policy, without its name."""
    return {
        "match": {
            "type": policy.match.type,
            "priority": policy.match.priority,
            "service": policy.match.service,
        },
        "order": policy.order,
        "reminders": list(policy.reminders),
        "final_grace_seconds": policy.final_grace_seconds,
        "calendar": policy.calendar,
        "manager_escalation": {
            "requires_work_blocked": policy.manager_escalation.requires_work_blocked,
            "min_unresponsive_episodes": policy.manager_escalation.min_unresponsive_episodes,
            "window_days": policy.manager_escalation.window_days,
        },
        "desk_manager_email": policy.desk_manager_email,
    }


def is_plausible_email(address: str) -> bool:
    """Cheap syntactic check, enough to catch typos in configuration."""
    return len(address) <= _EMAIL_MAX_LENGTH and _EMAIL.match(address) is not None


def validate_policy(
    policy: EscalationPolicy, known_calendars: Collection[str]
) -> tuple[FieldError, ...]:
    """Every problem with ``policy``, in field order; empty when it can be stored.

    ``known_calendars`` are the calendar names that exist; ``24x7`` always does.
    """
    errors: list[FieldError] = []
    if not policy.name.strip():
        errors.append(FieldError("name", "must not be empty"))
    errors.extend(_match_errors(policy.match))
    errors.extend(_reminder_errors(policy.reminders))
    if policy.final_grace_seconds < 0:
        errors.append(FieldError("final_grace_seconds", "must be zero or more"))
    if policy.calendar != ALWAYS_CALENDAR and policy.calendar not in known_calendars:
        errors.append(FieldError("calendar", f"unknown calendar {policy.calendar!r}"))
    errors.extend(_rule_errors(policy.manager_escalation))
    if not is_plausible_email(policy.desk_manager_email):
        errors.append(FieldError("desk_manager_email", "must be an email address"))
    return tuple(errors)


def _match_errors(match: PolicyMatch) -> list[FieldError]:
    errors: list[FieldError] = []
    if match.type is not None and match.type not in TICKET_TYPES:
        errors.append(FieldError("match.type", f"must be one of {', '.join(sorted(TICKET_TYPES))}"))
    if match.priority is not None and match.priority not in PRIORITIES:
        errors.append(
            FieldError("match.priority", f"must be one of {', '.join(sorted(PRIORITIES))}")
        )
    if match.service is not None and not match.service.strip():
        errors.append(FieldError("match.service", "must not be empty; leave it out to match all"))
    return errors


def _reminder_errors(reminders: tuple[int, ...]) -> list[FieldError]:
    # A policy without reminders would resolve tickets without ever chasing the
    # requester, which is exactly what the product promises not to do.
    if not reminders:
        return [FieldError("reminders", "at least one reminder is required")]
    errors: list[FieldError] = []
    for i, seconds in enumerate(reminders):
        where = f"reminders.{i}"
        if seconds <= 0:
            errors.append(FieldError(where, "must be a positive number of seconds"))
        elif i > 0 and seconds == reminders[i - 1]:
            errors.append(FieldError(where, f"duplicates reminders.{i - 1}"))
        elif i > 0 and seconds < reminders[i - 1]:
            errors.append(FieldError(where, "reminders must be in increasing order"))
    return errors


def _rule_errors(rule: ManagerEscalationRule) -> list[FieldError]:
    errors: list[FieldError] = []
    if rule.min_unresponsive_episodes < 1:
        errors.append(
            FieldError("manager_escalation.min_unresponsive_episodes", "must be at least 1")
        )
    if rule.window_days < 1:
        errors.append(FieldError("manager_escalation.window_days", "must be at least 1"))
    return errors
