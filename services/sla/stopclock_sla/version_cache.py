"""Parsed policy and calendar versions, cached per process, and the policy a ticket gets.

Versions never change once written, so a cache keyed by version is never stale; only
"which version is current" is read from the repository, each time it matters (a ticket
starts, a priority changes), so every replica sees a `PUT` at once.
"""

from __future__ import annotations

import asyncio
from collections import ChainMap
from collections.abc import Iterable, Mapping

from stopclock_shared.business_time import Calendar, calendar_from_spec
from stopclock_sla.domain import SlaPolicy, match_policy, policy_from_spec
from stopclock_sla.domain.calendar_pins import calendar_key, pin_policy, split_key
from stopclock_sla.domain.defaults import ALWAYS, ALWAYS_NAME, ALWAYS_VERSION

from .repository import SlaRepository


class VersionCache:
    """Parsed policy and calendar versions of one process."""

    def __init__(self) -> None:
        self._policies: dict[tuple[str, int], SlaPolicy] = {}
        self._calendars: dict[str, Calendar] = {
            ALWAYS_NAME: ALWAYS,
            calendar_key(ALWAYS_NAME, ALWAYS_VERSION): ALWAYS,
        }

    def remember_policy(self, policy: SlaPolicy) -> None:
        """Cache a policy version just written or read."""
        self._policies[(policy.name, policy.version)] = policy

    def remember_calendar(self, name: str, version: int, calendar: Calendar) -> None:
        """Cache a calendar version just written or read."""
        self._calendars[calendar_key(name, version)] = calendar

    async def current_policies(self, repo: SlaRepository) -> list[SlaPolicy]:
        """The current version of every policy."""
        return await self._policies_at(repo, await repo.heads("policies"))

    async def match(
        self, repo: SlaRepository, ticket_type: str, priority: str, service: str | None
    ) -> SlaPolicy | None:
        """The policy a ticket gets now, its calendars pinned to their current versions."""
        policy_heads, calendar_heads = await repo.current_heads()
        current = await self._policies_at(repo, policy_heads)
        found = match_policy(current, ticket_type, priority, service)
        if found is None:
            return None
        pinned = pin_policy(found, calendar_heads)
        await self.calendars(repo, (t.calendar for t in pinned.targets.values()))
        return pinned

    async def _policies_at(
        self, repo: SlaRepository, current: Mapping[str, int]
    ) -> list[SlaPolicy]:
        missing = [(n, v) for n, v in current.items() if (n, v) not in self._policies]
        for row in await repo.versions("policies", missing):
            self.remember_policy(
                policy_from_spec(row.name, row.spec, version=row.version, calendars=None)
            )
        return [self._policies[(n, v)] for n, v in current.items()]

    async def calendars(self, repo: SlaRepository, keys: Iterable[str]) -> Mapping[str, Calendar]:
        """A mapping holding at least `keys` (`name@version`, or a bare name: the current one).

        Raises nothing for unknown keys: the domain reports a calendar it cannot find.
        """
        wanted = set(keys)
        missing = [split_key(k) for k in wanted if k not in self._calendars]
        if not missing:
            return self._calendars
        bare = {name for name, version in missing if version is None}
        current = await repo.heads("calendars", bare) if bare else {}
        pinned = {(n, v) for n, v in missing if v is not None} | set(current.items())
        for row in await repo.versions("calendars", pinned):
            # Country holidays take ~0.2 s to expand: off the event loop's thread.
            key = calendar_key(row.name, row.version)
            cal = await asyncio.to_thread(calendar_from_spec, key, row.spec)
            self.remember_calendar(row.name, row.version, cal)
        # Bare names resolve to the current version for this call only (it may change).
        overlay = {
            name: self._calendars[calendar_key(name, version)]
            for name, version in current.items()
            if calendar_key(name, version) in self._calendars
        }
        return ChainMap(overlay, self._calendars) if overlay else self._calendars

    async def preload(self, repo: SlaRepository) -> None:
        """Parse the current versions of everything (start-up), so first use is fast."""
        await self.current_policies(repo)
        current = await repo.heads("calendars")
        await self.calendars(repo, (calendar_key(n, v) for n, v in current.items()))
