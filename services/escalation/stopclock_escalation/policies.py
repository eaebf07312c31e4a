"""The policies in force: the stored ones plus the built-in fallback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from . import repository as repo
from .domain.default_policy import BUILTIN_NAME, builtin_policy
from .domain.policy import EscalationPolicy, match_policy
from .mapping import policy_from_spec


async def policies_in_force(
    session: AsyncSession, desk_manager_email: str
) -> list[EscalationPolicy]:
    """Stored policies, then the built-in one unless a stored policy took its name."""
    stored = [policy_from_spec(r["name"], r["spec"]) for r in await repo.list_policies(session)]
    if all(p.name != BUILTIN_NAME for p in stored):
        stored.append(builtin_policy(desk_manager_email))
    return stored


async def policy_for(
    session: AsyncSession, ticket: Mapping[str, Any], desk_manager_email: str
) -> EscalationPolicy:
    """The policy of a ticket snapshot; the built-in policy matches anything, so never None."""
    policies = await policies_in_force(session, desk_manager_email)
    found = match_policy(
        policies, str(ticket.get("type")), ticket.get("priority"), ticket.get("service")
    )
    return found or builtin_policy(desk_manager_email)
