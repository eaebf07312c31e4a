"""Use cases on tickets, run on the fake unit of work: open, read, list, edit, move."""

from __future__ import annotations

import uuid

import pytest

from stopclock_shared.errors import Forbidden, Invalid, NotFound
from stopclock_shared.events.topics import TICKETS_EVENTS
from stopclock_shared.events.types import EventType
from stopclock_shared.problems import problem_of
from stopclock_ticket import use_cases
from stopclock_ticket.domain import InvalidTransition, Level
from stopclock_ticket.schemas import TICKET_READ, TicketFilters, TicketUpdate, TransitionIn

from .fakes import unit_of_work
from .givens import (
    AGENT,
    ALICE,
    BOB,
    IN_PROGRESS,
    LATER,
    NOW,
    REQUESTER,
    RESOLVED,
    WAITING,
    directory,
    moved,
    opened,
    payload,
    ticket_body,
)

# --- open -------------------------------------------------------------------------------


async def test_a_new_ticket_is_stored_with_its_first_history_entry_and_created_event() -> None:
    uow = unit_of_work()
    await directory(uow)
    uow.emitted.clear()
    ticket = await use_cases.open_ticket(uow, AGENT, ticket_body(), NOW)
    assert TICKET_READ.validate_python(ticket)["status"] == "new"
    assert (ticket["number"], ticket["priority"], ticket["version"]) == ("INC0000001", "P2", 1)
    assert uow.repo.tickets[ticket["id"]] == ticket
    (entry,) = uow.repo.history
    assert (entry["action"], entry["actor_id"], entry["changes"]["channel"]) == (
        "created",
        AGENT.sub,
        "api",
    )
    assert uow.types(TICKETS_EVENTS) == [EventType.TICKET_CREATED]
    data = payload(uow, EventType.TICKET_CREATED)
    assert (data["channel"], data["source_message_id"]) == ("api", None)
    # Event-carried state: the requester's manager travels with the ticket.
    assert data["ticket"]["requester"]["manager_email"] == "carol@example.com"
    assert data["ticket"]["created_at"] == NOW.isoformat()


async def test_ticket_numbers_run_per_type() -> None:
    uow = unit_of_work()
    await directory(uow)
    first = await use_cases.open_ticket(uow, AGENT, ticket_body(), NOW)
    request = await use_cases.open_ticket(uow, AGENT, ticket_body(type="service_request"), NOW)
    second = await use_cases.open_ticket(uow, AGENT, ticket_body(), NOW)
    assert [first["number"], request["number"], second["number"]] == [
        "INC0000001",
        "REQ0000001",
        "INC0000002",
    ]


async def test_a_requester_opens_tickets_for_themselves_only() -> None:
    uow = unit_of_work()
    await directory(uow)
    mine = await use_cases.open_ticket(uow, ALICE, ticket_body(), NOW)
    assert mine["requester_id"] == REQUESTER
    with pytest.raises(Forbidden):
        await use_cases.open_ticket(uow, BOB, ticket_body(), NOW)
    assert len(uow.repo.tickets) == 1


async def test_an_unknown_requester_is_a_field_error_and_draws_no_number() -> None:
    uow = unit_of_work()
    with pytest.raises(Invalid) as refused:
        await use_cases.open_ticket(uow, AGENT, ticket_body("nobody"), NOW)
    assert refused.value.errors[0].field == "requester_id"
    assert "Unknown person 'nobody'" in refused.value.errors[0].message
    assert (uow.repo.tickets, uow.repo.numbers, uow.emitted) == ({}, {}, [])


# --- read and list ----------------------------------------------------------------------


async def test_a_requester_sees_their_own_tickets_only() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)
    seen = await use_cases.visible_ticket(uow, ALICE, ticket["id"])
    assert seen["id"] == ticket["id"]
    with pytest.raises(Forbidden):
        await use_cases.visible_ticket(uow, BOB, ticket["id"])
    with pytest.raises(NotFound):
        await use_cases.visible_ticket(uow, AGENT, uuid.uuid4())


async def test_a_requester_lists_their_own_tickets_whatever_they_ask() -> None:
    uow = unit_of_work()
    mine = await opened(uow)
    await use_cases.open_ticket(uow, AGENT, ticket_body("bob"), NOW)
    everything = TicketFilters()
    listed = await use_cases.list_tickets(uow, ALICE, everything, 50, None)
    assert [t["id"] for t in listed] == [mine["id"]]
    with pytest.raises(Forbidden):
        await use_cases.list_tickets(uow, ALICE, TicketFilters(requester_id="bob"), 50, None)
    assert len(await use_cases.list_tickets(uow, AGENT, everything, 50, None)) == 2
    by_bob = await use_cases.list_tickets(uow, AGENT, TicketFilters(requester_id="bob"), 50, None)
    assert [t["requester_id"] for t in by_bob] == ["bob"]


# --- edit -------------------------------------------------------------------------------


async def test_an_edit_records_what_changed_and_announces_it() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)
    body = TicketUpdate(title="VPN drops every 30 minutes", assignee_id="agent-1")
    updated = await use_cases.update_ticket(uow, AGENT, ticket["id"], body, LATER)
    assert (updated["title"], updated["version"], updated["updated_at"]) == (
        body.title,
        2,
        LATER,
    )
    changes = {
        "title": [ticket["title"], body.title],
        "assignee_id": [None, "agent-1"],
    }
    assert uow.repo.history[-1]["changes"] == changes
    assert uow.types() == [EventType.TICKET_UPDATED]
    data = payload(uow, EventType.TICKET_UPDATED)
    assert data["changes"] == changes
    assert data["ticket"]["assignee_id"] == "agent-1"


async def test_a_new_impact_recomputes_the_priority_and_announces_the_move() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)  # medium x high: P2
    updated = await use_cases.update_ticket(
        uow, AGENT, ticket["id"], TicketUpdate(impact=Level.HIGH), LATER
    )
    assert updated["priority"] == "P1"
    assert uow.types() == [EventType.TICKET_UPDATED, EventType.TICKET_PRIORITY_CHANGED]
    moved_ = payload(uow, EventType.TICKET_PRIORITY_CHANGED)
    assert (moved_["from_priority"], moved_["to_priority"]) == ("P2", "P1")
    assert payload(uow, EventType.TICKET_UPDATED)["changes"]["priority"] == ["P2", "P1"]


async def test_an_edit_that_changes_nothing_writes_nothing() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)
    same = TicketUpdate(title=ticket["title"])
    kept = await use_cases.update_ticket(uow, AGENT, ticket["id"], same, LATER)
    assert kept["version"] == 1
    assert (uow.emitted, len(uow.repo.history)) == ([], 1)


async def test_only_the_desk_edits_a_ticket() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)
    with pytest.raises(Forbidden):
        await use_cases.update_ticket(uow, ALICE, ticket["id"], TicketUpdate(title="x"), LATER)
    with pytest.raises(NotFound):
        await use_cases.update_ticket(uow, AGENT, uuid.uuid4(), TicketUpdate(title="x"), LATER)


# --- lifecycle --------------------------------------------------------------------------


async def test_a_transition_is_stored_recorded_and_announced_with_its_actor() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)
    ticket = await moved(uow, ticket, IN_PROGRESS)
    waiting = await use_cases.change_status(
        uow, AGENT, ticket["id"], TransitionIn(**WAITING), LATER
    )
    assert (waiting["status"], waiting["waiting_reason"], waiting["waiting_since"]) == (
        "waiting_on_user",
        "info_requested",
        LATER,
    )
    assert uow.repo.history[-1]["changes"] == {
        "status": ["in_progress", "waiting_on_user"],
        "reason": "info_requested",
        "note": "Which office?",
    }
    data = payload(uow, EventType.TICKET_STATUS_CHANGED)
    assert (data["from_status"], data["to_status"], data["note"]) == (
        "in_progress",
        "waiting_on_user",
        "Which office?",
    )
    assert (data["actor_id"], data["actor_roles"]) == (AGENT.sub, ["agent"])
    assert data["ticket"]["waiting_since"] == LATER.isoformat()


async def test_an_invalid_transition_is_a_409_listing_the_allowed_moves() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)
    with pytest.raises(InvalidTransition) as refused:
        await use_cases.change_status(uow, AGENT, ticket["id"], TransitionIn(**RESOLVED), NOW)
    problem = problem_of(refused.value)
    assert (problem.status, problem.title) == (409, "Invalid transition")
    assert problem.type.endswith("/invalid-transition")
    assert problem.extra == {
        "allowed": ["assigned", "in_progress", "cancelled"],
        "current_status": "new",
    }
    assert uow.emitted == []


async def test_waiting_needs_a_known_reason() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS)
    body = TransitionIn(to="waiting_on_user", reason="lunch")
    with pytest.raises(Invalid) as refused:
        await use_cases.change_status(uow, AGENT, ticket["id"], body, NOW)
    assert problem_of(refused.value).errors == [
        {"field": "reason", "message": refused.value.errors[0].message}
    ]


async def test_a_requester_reopens_a_resolved_ticket_but_may_not_resolve_one() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS)
    with pytest.raises(Forbidden):
        await use_cases.change_status(uow, ALICE, ticket["id"], TransitionIn(**RESOLVED), NOW)
    ticket = await moved(uow, ticket, RESOLVED)
    reopened = await use_cases.change_status(
        uow, ALICE, ticket["id"], TransitionIn(**IN_PROGRESS), LATER
    )
    assert (reopened["status"], reopened["resolution"], reopened["resolved_at"]) == (
        "in_progress",
        None,
        None,
    )
    data = payload(uow, EventType.TICKET_STATUS_CHANGED)
    assert (data["actor_id"], data["actor_roles"]) == (REQUESTER, ["requester"])


async def test_resolving_keeps_the_resolution_and_closing_keeps_it_too() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS, RESOLVED)
    assert (ticket["status"], ticket["resolution"]) == ("resolved", "Replaced the VPN profile")
    assert uow.repo.history[-1]["changes"]["resolution"] == "Replaced the VPN profile"
    closed = await use_cases.change_status(
        uow, AGENT, ticket["id"], TransitionIn(to="closed"), LATER
    )
    assert (closed["closed_at"], closed["resolution"]) == (LATER, "Replaced the VPN profile")
