"""The directory, outages and subscriptions, on the fake unit of work."""

from __future__ import annotations

import uuid

import pytest

from stopclock_shared.errors import Forbidden, Invalid, NotFound
from stopclock_shared.events.topics import OUTAGES_EVENTS, PEOPLE_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.problems import problem_of
from stopclock_ticket import use_cases
from stopclock_ticket.domain import Level, OutageResolved
from stopclock_ticket.schemas import OutageIn, PersonIn

from .fakes import TicketUow, unit_of_work
from .givens import ADMIN, AGENT, ALICE, BOB, BOSS, LATER, NOW, REQUESTER, directory, payload

# --- people -----------------------------------------------------------------------------


async def test_putting_a_person_creates_then_replaces_and_announces_each_time() -> None:
    uow = unit_of_work()
    body = PersonIn(name="Dan", email="dan@example.com")
    person, created = await use_cases.put_person(uow, "dan", body, NOW)
    assert (person["name"], created) == ("Dan", True)
    renamed = PersonIn(name="Daniel", email="dan@example.com", vip=True)
    person, created = await use_cases.put_person(uow, "dan", renamed, LATER)
    assert (person["name"], person["created_at"], created) == ("Daniel", NOW, False)
    assert uow.types(PEOPLE_EVENTS) == [EventType.PERSON_UPDATED] * 2
    _, key, last = uow.emitted[-1]
    assert (key, last.data["person"]["name"], last.data["person"]["vip"]) == ("dan", "Daniel", True)


async def test_a_person_event_carries_the_managers_contact() -> None:
    uow = unit_of_work()
    await directory(uow)
    ref = uow.envelopes(EventType.PERSON_UPDATED)[1].data["person"]
    assert (ref["id"], ref["manager_id"], ref["manager_email"], ref["manager_name"]) == (
        REQUESTER,
        BOSS,
        "carol@example.com",
        "Carol",
    )


async def test_nobody_is_their_own_manager() -> None:
    uow = unit_of_work()
    body = PersonIn(name="Dan", email="dan@example.com", manager_id="dan")
    with pytest.raises(Invalid) as refused:
        await use_cases.put_person(uow, "dan", body, NOW)
    assert refused.value.errors[0].field == "manager_id"
    assert (uow.repo.people, uow.emitted) == ({}, [])


async def test_a_requester_reads_their_own_profile_only() -> None:
    uow = unit_of_work()
    await directory(uow)
    assert (await use_cases.get_person(uow, ALICE, REQUESTER))["email"] == "alice@example.com"
    assert (await use_cases.get_person(uow, AGENT, "bob"))["name"] == "Bob"
    with pytest.raises(Forbidden):
        await use_cases.get_person(uow, ALICE, "bob")
    with pytest.raises(NotFound):
        await use_cases.get_person(uow, AGENT, "nobody")


# --- subscriptions ----------------------------------------------------------------------


async def test_a_requester_subscribes_themselves_the_desk_anyone_known() -> None:
    uow = unit_of_work()
    await directory(uow)
    mine = await use_cases.subscribe(uow, ALICE, "vpn", REQUESTER, NOW)
    assert (mine["service"], mine["person_id"]) == ("vpn", REQUESTER)
    again = await use_cases.subscribe(uow, ADMIN, "vpn", REQUESTER, LATER)
    assert again["created_at"] == NOW  # one subscription, kept
    with pytest.raises(Forbidden):
        await use_cases.subscribe(uow, BOB, "vpn", REQUESTER, NOW)
    with pytest.raises(NotFound):
        await use_cases.subscribe(uow, AGENT, "vpn", "nobody", NOW)


# --- outages ----------------------------------------------------------------------------


async def subscribed(uow: TicketUow) -> None:
    await directory(uow)
    await use_cases.subscribe(uow, AGENT, "vpn", REQUESTER, NOW)
    await use_cases.subscribe(uow, AGENT, "vpn", "bob", NOW)
    await use_cases.subscribe(uow, AGENT, "mail", BOSS, NOW)
    uow.emitted.clear()


OUTAGE = OutageIn(service="vpn", title="VPN down", description="Gateway lost.", impact=Level.HIGH)


async def test_declaring_an_outage_warns_the_services_subscribers() -> None:
    uow = unit_of_work()
    await subscribed(uow)
    view = await use_cases.declare_outage(uow, OUTAGE, NOW)
    assert (view.outage["status"], view.notified) == ("active", 2)
    assert [(u["kind"], u["message"]) for u in view.updates] == [("declared", "Gateway lost.")]
    assert uow.types(OUTAGES_EVENTS) == [EventType.OUTAGE_DECLARED]
    _, key, envelope = uow.emitted[0]
    assert key == "vpn"
    data = envelope.data
    assert [p["id"] for p in data["subscribers"]] == [REQUESTER, "bob"]
    assert data["subscribers"][0]["manager_email"] == "carol@example.com"
    assert (data["message"], data["outage"]["created_at"]) == ("Gateway lost.", NOW.isoformat())


async def test_an_outage_is_updated_then_resolved_then_takes_nothing_more() -> None:
    uow = unit_of_work()
    await subscribed(uow)
    oid = (await use_cases.declare_outage(uow, OUTAGE, NOW)).outage["id"]
    updated = await use_cases.update_outage(uow, oid, "Vendor on site.", LATER)
    assert [u["kind"] for u in updated.updates] == ["declared", "update"]
    resolved = await use_cases.resolve_outage(uow, oid, "Back up.", LATER)
    assert (resolved.outage["status"], resolved.outage["resolved_at"]) == ("resolved", LATER)
    assert uow.types() == [
        EventType.OUTAGE_DECLARED,
        EventType.OUTAGE_UPDATED,
        EventType.OUTAGE_RESOLVED,
    ]
    assert payload(uow, EventType.OUTAGE_RESOLVED)["message"] == "Back up."
    with pytest.raises(OutageResolved) as refused:
        await use_cases.update_outage(uow, oid, "Again?", LATER)
    problem = problem_of(refused.value)
    assert (problem.status, problem.title, problem.detail) == (
        409,
        "Outage resolved",
        "This outage is already resolved",
    )
    with pytest.raises(OutageResolved):
        await use_cases.resolve_outage(uow, oid, "Again?", LATER)
    assert len(uow.emitted) == 3


async def test_reading_an_outage_counts_its_subscribers() -> None:
    uow = unit_of_work()
    await subscribed(uow)
    oid = (await use_cases.declare_outage(uow, OUTAGE, NOW)).outage["id"]
    view = await use_cases.read_outage(uow, oid)
    assert (view.outage["title"], view.notified, len(view.updates)) == ("VPN down", 2, 1)
    with pytest.raises(NotFound):
        await use_cases.read_outage(uow, uuid.uuid4())
    with pytest.raises(NotFound):
        await use_cases.update_outage(uow, uuid.uuid4(), "x", LATER)
