"""Escalation policies: the stored ones plus the built-in fallback, and their upkeep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from stopclock_shared.errors import Invalid, NotFound
from stopclock_shared.events.tickets import TicketSnapshot

from ..domain.default_policy import BUILTIN_NAME, builtin_policy
from ..domain.policy import EscalationPolicy, match_policy, validate_policy
from ..repository import EscalationUnitOfWork, StoredPolicy
from .calendars import known_calendar_names


@dataclass(frozen=True, slots=True)
class PolicyInForce:
    policy: EscalationPolicy
    updated_at: datetime | None  # None: not stored

    @property
    def builtin(self) -> bool:
        """The fallback the service brings (a stored policy may take its name)."""
        return self.updated_at is None and self.policy.name == BUILTIN_NAME


def _in_force(stored: list[StoredPolicy], desk_manager_email: str) -> list[PolicyInForce]:
    policies = [PolicyInForce(s.policy, s.updated_at) for s in stored]
    if all(s.policy.name != BUILTIN_NAME for s in stored):
        policies.append(PolicyInForce(builtin_policy(desk_manager_email), None))
    return policies


async def policies_in_force(
    uow: EscalationUnitOfWork, desk_manager_email: str
) -> list[EscalationPolicy]:
    """Stored policies, then the built-in one unless a stored policy took its name."""
    stored = await uow.repo.list_policies()
    return [p.policy for p in _in_force(stored, desk_manager_email)]


async def policy_for(
    uow: EscalationUnitOfWork, ticket: TicketSnapshot, desk_manager_email: str
) -> EscalationPolicy:
    """The policy of a ticket; the built-in policy matches anything, so never None."""
    policies = await policies_in_force(uow, desk_manager_email)
    found = match_policy(policies, ticket.type, ticket.priority, ticket.service)
    return found or builtin_policy(desk_manager_email)


async def list_policies(uow: EscalationUnitOfWork, desk_manager_email: str) -> list[PolicyInForce]:
    """Every policy in force, in the order they are tried (order, then name)."""
    policies = _in_force(await uow.repo.list_policies(), desk_manager_email)
    return sorted(policies, key=lambda p: (p.policy.order, p.policy.name))


async def put_policy(
    uow: EscalationUnitOfWork, policy: EscalationPolicy, now: datetime
) -> tuple[PolicyInForce, bool]:
    """Validate and store a policy (every field problem at once); True when created.
    Tickets already waiting keep the policy they started with."""
    errors = validate_policy(policy, await known_calendar_names(uow))
    if errors:
        raise Invalid(errors)
    updated_at, created = await uow.repo.upsert_policy(policy, now)
    return PolicyInForce(policy, updated_at), created


async def delete_policy(uow: EscalationUnitOfWork, name: str) -> None:
    """Delete a stored policy (the built-in one cannot be; tickets waiting keep theirs)."""
    if not await uow.repo.delete_policy(name):
        raise NotFound("Stored policy", name)
