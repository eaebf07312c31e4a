"""Policy and calendar names, and the calendar versions a ticket keeps (`name@version`).

Calendars, like policies, apply to tickets that start after a change. When a ticket
starts (or a priority change moves it to another policy) the policy's calendar names
are pinned to the versions current at that moment, so a later `PUT` of a calendar never
moves the deadlines of tickets already running. A name without `@` (data written before
pinning, or a calendar unknown at pin time) means the current version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Final

from stopclock_sla.domain.policy import SlaPolicy, Target

NAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"
_NAME = re.compile(NAME_PATTERN)


def is_valid_name(name: str) -> bool:
    """Policy and calendar names: letters, digits, `_ . -`, at most 100, never `@`."""
    return bool(_NAME.match(name))


def calendar_key(name: str, version: int) -> str:
    """The key of one calendar version, as clocks store it."""
    return f"{name}@{version}"


def split_key(key: str) -> tuple[str, int | None]:
    """`("office", 3)` for `office@3`; `("office", None)` for a bare name."""
    name, sep, version = key.rpartition("@")
    if not sep or not version.isdigit():
        return key, None
    return name, int(version)


def pin_policy(policy: SlaPolicy, versions: Mapping[str, int]) -> SlaPolicy:
    """`policy` with each target's calendar pinned to its version in `versions`."""

    def pinned(target: Target) -> Target:
        name, version = split_key(target.calendar)
        if version is not None or name not in versions:
            return target
        return replace(target, calendar=calendar_key(name, versions[name]))

    first = None if policy.first_response is None else pinned(policy.first_response)
    return replace(policy, resolution=pinned(policy.resolution), first_response=first)
