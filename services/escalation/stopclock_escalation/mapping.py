"""Between stored rows (JSON specs, episode rows) and the domain's frozen objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping

from .domain.episode import EpisodeState, WaitingEpisode
from .domain.policy import EscalationPolicy, ManagerEscalationRule, PolicyMatch


def policy_from_spec(name: str, spec: Mapping[str, Any]) -> EscalationPolicy:
    """A policy from its stored form (the PUT body, which the API validated)."""
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
    """The stored (and API) form of a policy, without its name."""
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


def snapshot_policy(policy: EscalationPolicy) -> dict[str, Any]:
    """The policy as an episode keeps it: the spec plus its name."""
    return {"name": policy.name, **policy_to_spec(policy)}


def episode_from_row(row: RowMapping) -> WaitingEpisode:
    """The domain episode of a ``waiting_episodes`` row."""
    stored = dict(row["policy"])
    return WaitingEpisode(
        id=str(row["id"]),
        ticket_id=str(row["ticket_id"]),
        requester_id=row["requester_id"],
        policy=policy_from_spec(stored.pop("name"), stored),
        started_at=row["started_at"],
        reminders_at=tuple(row["reminders_at"]),
        final_at=row["final_at"],
        reminders_sent=row["reminders_sent"],
        state=EpisodeState(row["state"]),
        ended_at=row["ended_at"],
        response_seconds=row["response_seconds"],
        away_at=row["away_at"],
    )
