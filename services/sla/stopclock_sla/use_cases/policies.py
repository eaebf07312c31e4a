"""Use cases on policies and the calendars they count on: write a version, read one, list
the current ones, seed the defaults, gather what the public policy page says.

Versions apply to tickets that start after them; a `PUT` equal to the current version adds
nothing. Writers of one name are serialised, so versions stay dense.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, NamedTuple

from stopclock_shared.business_time import CalendarError, calendar_from_spec, calendar_to_spec
from stopclock_shared.errors import Conflict, Invalid, NotFound
from stopclock_shared.events.topics import SLA_EVENTS
from stopclock_shared.unit_of_work import UnitOfWork
from stopclock_sla.domain import SlaPolicy, policy_from_spec, policy_to_spec
from stopclock_sla.domain.calendar_pins import is_valid_name
from stopclock_sla.domain.defaults import (
    ALWAYS_NAME,
    ALWAYS_SPEC,
    ALWAYS_VERSION,
    default_policy_specs,
)

from ..events import calendar_envelope
from ..repository import Kind, SlaRepository, StoredVersion
from ..version_cache import VersionCache

Uow = UnitOfWork[SlaRepository]
NAME_RULE: Final = "use 1 to 100 letters, digits, '_', '.' or '-', starting with a letter or digit"
_WHAT: Final[Mapping[Kind, str]] = {"policies": "Policy", "calendars": "Calendar"}


class BuiltinCalendar(Conflict):
    """The 24x7 calendar always exists as it is."""

    title = "Built-in calendar"


class Written(NamedTuple):
    """The version a `PUT` leaves current, and whether the name is new."""

    version: StoredVersion
    created: bool


def _check_name(name: str) -> None:
    if not is_valid_name(name):
        raise Invalid.field("name", NAME_RULE)


# --- policies -----------------------------------------------------------------------------


async def put_policy(
    uow: Uow, cache: VersionCache, name: str, body: Mapping[str, object], now: datetime
) -> Written:
    """Add a version of a policy (unless the body equals the current one).

    Raises `Invalid` (every field problem, unknown calendars included)."""
    _check_name(name)
    repo = uow.repo
    await repo.lock_name("policies", name)
    current = await repo.get_version("policies", name)
    known = set(await repo.heads("calendars"))
    version = 1 if current is None else current.version + 1
    policy = policy_from_spec(name, body, version=version, calendars=known)
    spec = policy_to_spec(policy)
    if current is not None and current.spec == spec:
        return Written(current, False)
    row = await repo.insert_version("policies", name, version, spec, now)
    assert row is not None, "writers of a name are serialised by lock_name"
    uow.after_commit(lambda: cache.remember_policy(policy))
    return Written(row, current is None)


# --- calendars ----------------------------------------------------------------------------


async def put_calendar(
    uow: Uow,
    cache: VersionCache,
    name: str,
    body: Mapping[str, object],
    now: datetime,
    *,
    topic: str = SLA_EVENTS,
) -> Written:
    """Add a calendar version (unless unchanged) and announce the current one on
    `sla.events`. Raises `BuiltinCalendar` for 24x7, `Invalid` for a bad name or spec."""
    if name == ALWAYS_NAME:
        raise BuiltinCalendar("The 24x7 calendar always exists and cannot be replaced")
    _check_name(name)
    try:
        # Country holidays take ~0.2 s to expand: off the event loop's thread.
        cal = await asyncio.to_thread(calendar_from_spec, name, body)
    except CalendarError as exc:
        raise Invalid.field(exc.field, exc.message) from exc
    holidays = body.get("holidays") or {}
    assert isinstance(holidays, Mapping), "the API model checks the shape"
    spec = {
        "timezone": cal.timezone,
        "week": calendar_to_spec(cal)["week"],
        "holidays": dict(holidays),
    }
    repo = uow.repo
    await repo.lock_name("calendars", name)
    current = await repo.get_version("calendars", name)
    row = current
    if current is None or current.spec != spec:
        version = 1 if current is None else current.version + 1
        row = await repo.insert_version("calendars", name, version, spec, now)
        assert row is not None, "writers of a name are serialised by lock_name"
        uow.after_commit(lambda: cache.remember_calendar(name, version, cal))
    assert row is not None
    await uow.emit(topic, name, calendar_envelope(name, row.spec, row.created_at))
    return Written(row, current is None)


# --- reading ------------------------------------------------------------------------------


class Listing(NamedTuple):
    """A page of current versions by name; `more` when names follow the last one."""

    items: list[StoredVersion]
    more: bool


async def get_version(uow: Uow, kind: Kind, name: str, version: int | None = None) -> StoredVersion:
    """A policy or calendar version (the current one by default); `NotFound` if none."""
    found = await uow.repo.get_version(kind, name, version)
    if found is None:
        raise NotFound(_WHAT[kind], name if version is None else f"{name} version {version}")
    return found


async def list_current(uow: Uow, kind: Kind, after: str | None, limit: int) -> Listing:
    """The current policies or calendars by name, after the name `after`."""
    rows = list(await uow.repo.list_current(kind, after, limit))
    return Listing(rows[:limit], len(rows) > limit)


# --- start-up and the public page ---------------------------------------------------------


async def seed_defaults(
    uow: Uow, now: datetime, *, default_policies: bool, topic: str = SLA_EVENTS
) -> None:
    """Write the 24x7 calendar (announcing it once) and the default policies, if missing."""
    repo = uow.repo
    row = await repo.insert_version("calendars", ALWAYS_NAME, ALWAYS_VERSION, ALWAYS_SPEC, now)
    if row is not None:
        await uow.emit(topic, ALWAYS_NAME, calendar_envelope(ALWAYS_NAME, row.spec, row.created_at))
    if not default_policies:
        return
    specs = default_policy_specs()
    existing = await repo.heads("policies", specs.keys())
    for name, body in specs.items():
        if name not in existing:
            policy = policy_from_spec(name, body, version=1, calendars={ALWAYS_NAME})
            await repo.insert_version("policies", name, 1, policy_to_spec(policy), now)


@dataclass(frozen=True, slots=True)
class PublishedPolicies:
    """What the public policy page says: the current policies and calendar specs by name."""

    policies: list[SlaPolicy]
    calendar_specs: dict[str, Mapping[str, object]]


async def published_policies(uow: Uow, cache: VersionCache) -> PublishedPolicies:
    """The current policies and the current spec of every calendar (24x7 always there)."""
    repo = uow.repo
    policies = await cache.current_policies(repo)
    heads = await repo.heads("calendars")
    specs: dict[str, Mapping[str, object]] = {
        v.name: v.spec for v in await repo.versions("calendars", heads.items())
    }
    specs.setdefault(ALWAYS_NAME, ALWAYS_SPEC)
    return PublishedPolicies(policies, specs)
