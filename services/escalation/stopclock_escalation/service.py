"""Use cases behind the escalation API: (session, input, now) -> state.

Functions never commit; the HTTP dependency owns the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.problems import ProblemError

from . import calendars
from . import repository as repo
from .domain.default_policy import BUILTIN_NAME
from .domain.policy import EscalationPolicy, validate_policy
from .domain.responsiveness import Responsiveness, responsiveness
from .mapping import episode_from_row, policy_from_spec, policy_to_spec
from .policies import policies_in_force
from .schemas import PolicyIn


def policy_of(name: str, body: PolicyIn, desk_manager_email: str) -> EscalationPolicy:
    spec = body.model_dump()
    spec["desk_manager_email"] = body.desk_manager_email or desk_manager_email
    return policy_from_spec(name, spec)


async def put_policy(
    session: AsyncSession, name: str, body: PolicyIn, desk_manager_email: str, now: datetime
) -> tuple[dict[str, Any], bool]:
    """Validate and store a policy; 422 lists every field problem at once."""
    policy = policy_of(name, body, desk_manager_email)
    errors = validate_policy(policy, await calendars.known_names(session))
    if errors:
        raise ProblemError(
            422,
            "Validation error",
            "; ".join(f"{e.field}: {e.message}" for e in errors),
            errors=[{"field": e.field, "message": e.message} for e in errors],
        )
    row, created = await repo.upsert_policy(session, name, policy_to_spec(policy), now)
    return policy_read(policy, row["updated_at"]), created


async def list_policies(session: AsyncSession, desk_manager_email: str) -> list[dict[str, Any]]:
    """Every policy in force, in the order they are tried (order, then name)."""
    stored = {r["name"]: r["updated_at"] for r in await repo.list_policies(session)}
    policies = await policies_in_force(session, desk_manager_email)
    policies.sort(key=lambda p: (p.order, p.name))
    return [policy_read(p, stored.get(p.name)) for p in policies]


def policy_read(policy: EscalationPolicy, updated_at: datetime | None) -> dict[str, Any]:
    builtin = updated_at is None and policy.name == BUILTIN_NAME
    return {
        "name": policy.name,
        **policy_to_spec(policy),
        "builtin": builtin,
        "updated_at": updated_at,
    }


async def person_responsiveness(
    session: AsyncSession, person_id: str, now: datetime, window_days: int, min_unanswered: int
) -> Responsiveness:
    """The register entry of one person, from the episodes the service has seen."""
    rows = await repo.episodes_of_requester(session, person_id, now - timedelta(days=window_days))
    return responsiveness(
        [episode_from_row(r) for r in rows],
        now,
        window_days=window_days,
        min_unresponsive=min_unanswered,
    )
