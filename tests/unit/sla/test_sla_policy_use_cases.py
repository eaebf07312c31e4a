"""Use cases on policies and calendars, on the fake repository: versions are added only when
something changed, refusals name their fields, 24x7 stays as it is, defaults are seeded once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sla_fakes import FakeSlaRepository, SlaUow, unit_of_work

from stopclock_shared.errors import Conflict, Invalid, NotFound
from stopclock_shared.events.sla import CalendarUpdated
from stopclock_shared.events.types import EventType
from stopclock_sla import use_cases
from stopclock_sla.domain.defaults import ALWAYS_SPEC, default_policy_specs
from stopclock_sla.version_cache import VersionCache

NOW = datetime(2026, 12, 3, 15, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
OFFICE: dict[str, Any] = {
    "timezone": "Europe/Paris",
    "week": {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}


def body(seconds: int = 4 * 3600, calendar: str = "24x7", **more: Any) -> dict[str, Any]:
    return {
        "match": {"priority": "P1"},
        "targets": {"resolution": {"seconds": seconds, "calendar": calendar}},
        **more,
    }


async def seeded() -> SlaUow:
    uow = unit_of_work()
    await use_cases.seed_defaults(uow, NOW, default_policies=False)
    uow.commit()
    return unit_of_work(uow.repo)


# --- policies -----------------------------------------------------------------------------


async def test_a_new_policy_is_version_1_and_cached_once_committed() -> None:
    uow, cache = await seeded(), VersionCache()
    written = await use_cases.put_policy(uow, cache, "p1", body(), NOW)
    assert (written.created, written.version.version, written.version.created_at) == (True, 1, NOW)
    assert written.version.spec["targets"]["resolution"] == {
        "seconds": 4 * 3600,
        "calendar": "24x7",
    }
    assert ("policies", "p1") in uow.repo.locked_names
    assert await cache.current_policies(FakeSlaRepository()) == []  # nothing cached yet
    uow.commit()
    assert [p.name for p in await cache.current_policies(uow.repo)] == ["p1"]


async def test_putting_the_same_policy_again_adds_no_version() -> None:
    uow, cache = await seeded(), VersionCache()
    await use_cases.put_policy(uow, cache, "p1", body(), NOW)
    again = await use_cases.put_policy(uow, cache, "p1", body(), LATER)
    assert (again.created, again.version.version, again.version.created_at) == (False, 1, NOW)
    assert await uow.repo.heads("policies") == {"p1": 1}


async def test_a_changed_policy_is_the_next_version_and_the_old_one_stays_readable() -> None:
    uow, cache = await seeded(), VersionCache()
    await use_cases.put_policy(uow, cache, "p1", body(), NOW)
    changed = await use_cases.put_policy(uow, cache, "p1", body(seconds=3600), LATER)
    assert (changed.created, changed.version.version) == (False, 2)
    current = await use_cases.get_version(uow, "policies", "p1")
    first = await use_cases.get_version(uow, "policies", "p1", 1)
    assert (current.version, first.version) == (2, 1)
    assert first.spec["targets"]["resolution"]["seconds"] == 4 * 3600


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        pytest.param(body(seconds=-1), "targets.resolution.seconds", id="negative-seconds"),
        pytest.param(body(warn_at=[0.9, 0.5]), "warn_at[1]", id="fractions-not-increasing"),
        pytest.param(body(pause_statuses=["closed"]), "pause_statuses[0]", id="closed-pauses"),
        pytest.param(body(calendar="office"), "targets.resolution.calendar", id="unknown-cal"),
    ],
)
async def test_an_invalid_policy_is_refused_naming_the_field_and_nothing_is_stored(
    spec: dict[str, Any], field: str
) -> None:
    uow = await seeded()
    with pytest.raises(Invalid) as caught:
        await use_cases.put_policy(uow, VersionCache(), "p1", spec, NOW)
    assert field in [e.field for e in caught.value.errors]
    assert await uow.repo.heads("policies") == {}


async def test_a_policy_may_name_a_calendar_once_it_exists() -> None:
    uow, cache = await seeded(), VersionCache()
    await use_cases.put_calendar(uow, cache, "office", OFFICE, NOW)
    written = await use_cases.put_policy(uow, cache, "p1", body(calendar="office"), NOW)
    assert written.version.spec["targets"]["resolution"]["calendar"] == "office"


@pytest.mark.parametrize("name", ["-p1", "a@2", "x" * 101, "with space"])
async def test_a_bad_name_is_refused(name: str) -> None:
    with pytest.raises(Invalid) as caught:
        await use_cases.put_policy(await seeded(), VersionCache(), name, body(), NOW)
    assert [e.field for e in caught.value.errors] == ["name"]


async def test_an_unknown_policy_or_version_is_not_found() -> None:
    uow = await seeded()
    await use_cases.put_policy(uow, VersionCache(), "p1", body(), NOW)
    with pytest.raises(NotFound, match="Policy p2 does not exist"):
        await use_cases.get_version(uow, "policies", "p2")
    with pytest.raises(NotFound, match="Policy p1 version 2 does not exist"):
        await use_cases.get_version(uow, "policies", "p1", 2)


async def test_policies_are_listed_by_name_page_by_page() -> None:
    uow, cache = await seeded(), VersionCache()
    for name in ("c", "a", "b"):
        await use_cases.put_policy(uow, cache, name, body(), NOW)
    await use_cases.put_policy(uow, cache, "a", body(seconds=60), NOW)
    first = await use_cases.list_current(uow, "policies", None, 2)
    assert ([(v.name, v.version) for v in first.items], first.more) == ([("a", 2), ("b", 1)], True)
    rest = await use_cases.list_current(uow, "policies", "b", 2)
    assert ([v.name for v in rest.items], rest.more) == (["c"], False)


# --- calendars ----------------------------------------------------------------------------


async def test_a_new_calendar_is_stored_announced_and_cached_once_committed() -> None:
    uow, cache = await seeded(), VersionCache()
    written = await use_cases.put_calendar(uow, cache, "office", OFFICE, NOW)
    assert (written.created, written.version.version) == (True, 1)
    assert written.version.spec["holidays"] == {}
    assert uow.types() == [EventType.SLA_CALENDAR_UPDATED]
    topic, key, env = uow.emitted[0]
    assert (topic, key, env.subject) == ("sla.events", "office", "office")
    announced = CalendarUpdated.model_validate(env.data)
    assert (announced.name, announced.spec, announced.updated_at) == (
        "office",
        written.version.spec,
        NOW,
    )
    assert "office@1" not in await cache.calendars(FakeSlaRepository(), [])
    uow.commit()
    assert "office@1" in await cache.calendars(FakeSlaRepository(), [])


async def test_the_same_calendar_again_adds_no_version_but_is_announced_again() -> None:
    uow, cache = await seeded(), VersionCache()
    await use_cases.put_calendar(uow, cache, "office", OFFICE, NOW)
    again = await use_cases.put_calendar(uow, cache, "office", OFFICE, LATER)
    assert (again.created, again.version.version) == (False, 1)
    assert uow.types() == [EventType.SLA_CALENDAR_UPDATED] * 2
    changed = await use_cases.put_calendar(
        uow, cache, "office", {**OFFICE, "timezone": "UTC"}, LATER
    )
    assert changed.version.version == 2


async def test_the_24x7_calendar_cannot_be_replaced() -> None:
    uow = await seeded()
    with pytest.raises(Conflict) as caught:
        await use_cases.put_calendar(uow, VersionCache(), "24x7", OFFICE, NOW)
    assert caught.value.title == "Built-in calendar"
    assert uow.emitted == []
    assert await uow.repo.heads("calendars") == {"24x7": 1}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        pytest.param({**OFFICE, "week": {"mon": [["18:00", "08:00"]]}}, "week.mon", id="backwards"),
        pytest.param({**OFFICE, "week": {"someday": []}}, "week", id="unknown-day"),
    ],
)
async def test_an_invalid_calendar_is_refused_and_nothing_is_announced(
    spec: dict[str, Any], field: str
) -> None:
    uow = await seeded()
    with pytest.raises(Invalid) as caught:
        await use_cases.put_calendar(uow, VersionCache(), "office", spec, NOW)
    assert caught.value.errors[0].field.startswith(field)
    assert uow.emitted == []


async def test_calendars_are_read_and_listed_like_policies() -> None:
    uow = await seeded()
    await use_cases.put_calendar(uow, VersionCache(), "office", OFFICE, NOW)
    assert (await use_cases.get_version(uow, "calendars", "24x7")).spec == ALWAYS_SPEC
    listing = await use_cases.list_current(uow, "calendars", None, 10)
    assert ([v.name for v in listing.items], listing.more) == (["24x7", "office"], False)
    with pytest.raises(NotFound):
        await use_cases.get_version(uow, "calendars", "office", 2)


# --- seeding and the public page ----------------------------------------------------------


async def test_defaults_are_seeded_once_and_24x7_announced_once() -> None:
    uow = unit_of_work()
    await use_cases.seed_defaults(uow, NOW, default_policies=True)
    assert uow.types() == [EventType.SLA_CALENDAR_UPDATED]
    assert await uow.repo.heads("policies") == dict.fromkeys(default_policy_specs(), 1)
    again = unit_of_work(uow.repo)
    await use_cases.seed_defaults(again, LATER, default_policies=True)
    assert again.emitted == []
    assert await again.repo.heads("policies") == dict.fromkeys(default_policy_specs(), 1)


async def test_a_replaced_default_policy_is_not_seeded_back() -> None:
    uow = unit_of_work()
    await use_cases.seed_defaults(uow, NOW, default_policies=True)
    await use_cases.put_policy(uow, VersionCache(), "default-p1", body(seconds=60), NOW)
    await use_cases.seed_defaults(uow, LATER, default_policies=True)
    assert (await use_cases.get_version(uow, "policies", "default-p1")).version == 2


async def test_without_default_policies_only_24x7_is_seeded() -> None:
    uow = unit_of_work()
    await use_cases.seed_defaults(uow, NOW, default_policies=False)
    assert await uow.repo.heads("policies") == {}
    assert await uow.repo.heads("calendars") == {"24x7": 1}


async def test_the_policy_page_shows_the_current_policies_and_every_calendar() -> None:
    uow, cache = await seeded(), VersionCache()
    await use_cases.put_calendar(uow, cache, "office", OFFICE, NOW)
    await use_cases.put_calendar(uow, cache, "office", {**OFFICE, "timezone": "UTC"}, NOW)
    await use_cases.put_policy(uow, cache, "p1", body(), NOW)
    await use_cases.put_policy(uow, cache, "p1", body(calendar="office"), NOW)
    published = await use_cases.published_policies(uow, cache)
    assert [(p.name, p.version) for p in published.policies] == [("p1", 2)]
    assert published.calendar_specs["office"]["timezone"] == "UTC"
    assert published.calendar_specs["24x7"] == ALWAYS_SPEC


async def test_the_policy_page_has_24x7_even_before_it_is_seeded() -> None:
    published = await use_cases.published_policies(unit_of_work(), VersionCache())
    assert (published.policies, list(published.calendar_specs)) == ([], ["24x7"])
