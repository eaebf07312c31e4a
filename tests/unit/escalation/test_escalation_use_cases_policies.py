"""Use cases on policies and the copy of the SLA calendars, on the fake repository."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from stopclock_escalation.domain.default_policy import BUILTIN_NAME
from stopclock_escalation.domain.policy import EscalationPolicy, PolicyMatch
from stopclock_escalation.use_cases.calendars import (
    calendar_named,
    calendar_specs,
    keep_calendar,
    known_calendar_names,
)
from stopclock_escalation.use_cases.policies import (
    delete_policy,
    list_policies,
    policies_in_force,
    policy_for,
    put_policy,
)
from stopclock_shared.business_time import CalendarError
from stopclock_shared.errors import Invalid, NotFound
from stopclock_shared.events.sla import CalendarUpdated

from .escalation_builders import T0, a_policy, a_ticket
from .fakes import unit_of_work

DESK = "desk@example.com"
OFFICE = {"timezone": "Europe/Paris", "week": {"mon": [["08:00", "18:00"]]}, "holidays": {}}


def vpn_policy(order: int = 10, name: str = "vpn", calendar: str = "24x7") -> EscalationPolicy:
    return replace(
        a_policy(), name=name, order=order, match=PolicyMatch(service="vpn"), calendar=calendar
    )


async def test_without_stored_policies_the_builtin_one_is_in_force() -> None:
    uow = unit_of_work()
    [policy] = await policies_in_force(uow, DESK)
    assert policy.name == BUILTIN_NAME
    assert policy.desk_manager_email == DESK


async def test_a_stored_policy_named_default_replaces_the_builtin_one() -> None:
    uow = unit_of_work()
    await put_policy(uow, replace(a_policy(), name=BUILTIN_NAME, reminders=(60,)), T0)
    [policy] = await policies_in_force(uow, DESK)
    assert policy.reminders == (60,)
    [listed] = await list_policies(uow, DESK)
    assert listed.builtin is False


async def test_a_ticket_gets_the_policy_matching_it_else_the_builtin_one() -> None:
    uow = unit_of_work()
    await put_policy(uow, vpn_policy(), T0)
    assert (await policy_for(uow, a_ticket(service="vpn"), DESK)).name == "vpn"
    assert (await policy_for(uow, a_ticket(service="mail"), DESK)).name == BUILTIN_NAME


async def test_policies_are_listed_in_the_order_they_are_tried_the_builtin_last() -> None:
    uow = unit_of_work()
    await put_policy(uow, vpn_policy(order=20, name="b"), T0)
    await put_policy(uow, vpn_policy(order=5, name="z"), T0)
    await put_policy(uow, vpn_policy(order=20, name="a"), T0)
    listed = await list_policies(uow, DESK)
    assert [p.policy.name for p in listed] == ["z", "a", "b", BUILTIN_NAME]
    assert [p.builtin for p in listed] == [False, False, False, True]
    assert listed[-1].updated_at is None
    assert listed[0].updated_at == T0


async def test_putting_a_policy_twice_creates_then_replaces_it() -> None:
    uow = unit_of_work()
    first, created = await put_policy(uow, vpn_policy(), T0)
    later = T0 + timedelta(hours=1)
    second, created_again = await put_policy(uow, vpn_policy(order=99), later)
    assert (created, created_again) == (True, False)
    assert (first.updated_at, second.updated_at) == (T0, later)
    assert uow.repo.policies["vpn"].policy.order == 99


async def test_a_bad_policy_is_refused_with_every_field_to_fix_and_not_stored() -> None:
    uow = unit_of_work()
    bad = replace(vpn_policy(), reminders=(120, 60), final_grace_seconds=-1, calendar="nowhere")
    with pytest.raises(Invalid) as refused:
        await put_policy(uow, bad, T0)
    fields = [e.field for e in refused.value.errors]
    assert fields == ["reminders.1", "final_grace_seconds", "calendar"]
    assert uow.repo.policies == {}


async def test_a_policy_may_use_a_calendar_learnt_from_the_sla_service() -> None:
    uow = unit_of_work()
    await keep_calendar(uow, CalendarUpdated(name="office", spec=OFFICE, updated_at=T0))
    stored, created = await put_policy(uow, vpn_policy(calendar="office"), T0)
    assert created
    assert stored.policy.calendar == "office"


async def test_deleting_a_stored_policy_removes_it_and_a_second_time_is_not_found() -> None:
    uow = unit_of_work()
    await put_policy(uow, vpn_policy(), T0)
    await delete_policy(uow, "vpn")
    assert uow.repo.policies == {}
    with pytest.raises(NotFound):
        await delete_policy(uow, "vpn")


async def test_the_builtin_policy_cannot_be_deleted() -> None:
    with pytest.raises(NotFound):
        await delete_policy(unit_of_work(), BUILTIN_NAME)


# --- calendars ------------------------------------------------------------------------------


async def test_a_calendar_is_kept_and_an_older_version_never_replaces_it() -> None:
    uow = unit_of_work()
    newer = {**OFFICE, "week": {"tue": [["09:00", "17:00"]]}}
    await keep_calendar(uow, CalendarUpdated(name="office", spec=newer, updated_at=T0))
    old = CalendarUpdated(name="office", spec=OFFICE, updated_at=T0 - timedelta(days=1))
    await keep_calendar(uow, old)
    assert (await calendar_specs(uow)) == {"office": newer}
    assert await known_calendar_names(uow) == {"24x7", "office"}


async def test_a_calendar_that_cannot_be_read_is_refused_and_not_kept() -> None:
    uow = unit_of_work()
    with pytest.raises(CalendarError):
        await keep_calendar(
            uow, CalendarUpdated(name="bad", spec={"timezone": "Mars/Olympus"}, updated_at=T0)
        )
    with pytest.raises(Invalid):
        await keep_calendar(uow, CalendarUpdated(name="", spec=OFFICE, updated_at=T0))
    assert uow.repo.calendars == {}


async def test_business_hours_come_from_the_kept_calendar_and_unknown_ones_count_as_24x7() -> None:
    uow = unit_of_work()
    await keep_calendar(uow, CalendarUpdated(name="office", spec=OFFICE, updated_at=T0))
    office = await calendar_named(uow, "office")
    always = await calendar_named(uow, "forgotten")
    assert office.name == "office"
    assert always.name == "24x7"
    assert (await calendar_named(uow, "24x7")).name == "24x7"
