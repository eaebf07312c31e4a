"""The escalation service on the real stack: policies, ladders, SLA and survey escalations.

Mails are the notification service's business and are checked in tests/e2e; here the
outcomes are read from the escalation and ticket APIs and from the events on Kafka.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from escalation_support import (
    escalations,
    event_bytes,
    kinds,
    put_policy,
    wait_escalations,
    wait_status,
)

from stopclock_shared.events.topics import (
    ESCALATIONS_EVENTS,
    SLA_EVENTS,
    SURVEYS_EVENTS,
    TICKETS_COMMANDS,
    TICKETS_EVENTS,
)
from stopclock_shared.events.types import EventType
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe, send_raw
from stopclock_shared.testing.stack import Stack, unique


@pytest.fixture
async def escalation_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("escalation"), timeout=15) as client:
        yield client


async def wait_on_requester(
    ticket_api: httpx.AsyncClient, headers: dict[str, str], ticket_id: str
) -> None:
    await move(ticket_api, headers, ticket_id, "in_progress")
    await move(
        ticket_api, headers, ticket_id, "waiting_on_user", reason="info_requested", note="Which OS?"
    )


def data_of(events: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["type"] == type_]


# --- policies ---------------------------------------------------------------------------


async def every_policy(client: httpx.AsyncClient, admin: dict[str, str]) -> list[dict[str, Any]]:
    """Every policy in list order, page after page (a shared stack may hold hundreds)."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get("/api/v1/escalation/policies", params=params, headers=admin)
        ).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_a_policy_is_stored_listed_and_replaced(
    escalation_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    name = unique("policy")
    body = {"match": {"service": name}, "reminders": [60, 120], "final_grace_seconds": 30}
    url = f"/api/v1/escalation/policies/{name}"
    created = await escalation_api.put(url, json=body, headers=admin)
    replaced = await escalation_api.put(url, json={**body, "order": 5}, headers=admin)
    items = await every_policy(escalation_api, admin)
    assert (created.status_code, replaced.status_code) == (201, 200)
    mine = [p for p in items if p["name"] == name]
    assert mine == [replaced.json()]
    assert mine[0]["order"] == 5
    assert mine[0]["calendar"] == "24x7"
    assert mine[0]["manager_escalation"] == {
        "requires_work_blocked": True,
        "min_unresponsive_episodes": 2,
        "window_days": 90,
    }
    builtin = [p for p in items if p["builtin"]]
    # The built-in fallback comes last, unless a stored policy named "default" replaced it
    # (the stack is shared: another test or a person may have done so).
    replaced_default = [p for p in items if p["name"] == "default" and not p["builtin"]]
    assert builtin == [items[-1]] or (not builtin and len(replaced_default) == 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reminders": [120, 60]}, "reminders.1"),
        ({"reminders": [-5, 60]}, "reminders.0"),
        ({"reminders": []}, "reminders"),
        ({"calendar": "no-such-calendar"}, "calendar"),
        ({"final_grace_seconds": -1}, "final_grace_seconds"),
        ({"match": {"priority": "P9"}}, "match.priority"),
        ({"desk_manager_email": "not an address"}, "desk_manager_email"),
        ({"desk_manager_email": "Desk <desk@example.com>"}, "desk_manager_email"),
        ({"desk_manager_email": "a@example.com, b@example.com"}, "desk_manager_email"),
        ({"desk_manager_email": "a@example.com\r\nBcc: x@example.com"}, "desk_manager_email"),
        (
            {"manager_escalation": {"requires_work_blocked": "yes"}},
            "manager_escalation.requires_work_blocked",
        ),
        (
            {"manager_escalation": {"min_unresponsive_episodes": 0}},
            "manager_escalation.min_unresponsive_episodes",
        ),
        ({"match": {"type": "problem"}}, "match.type"),
    ],
)
async def test_a_bad_policy_is_refused_with_the_field_to_fix(
    escalation_api: httpx.AsyncClient, admin: dict[str, str], change: dict[str, Any], field: str
) -> None:
    body = {"match": {"service": unique("s")}, "reminders": [60], "final_grace_seconds": 30}
    body.update(change)
    response = await escalation_api.put(
        f"/api/v1/escalation/policies/{unique('bad')}", json=body, headers=admin
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_the_policy_list_pages_with_limit_and_cursor(
    escalation_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for _ in range(3):
        body = {"match": {"service": unique("s")}, "reminders": [60], "final_grace_seconds": 30}
        response = await escalation_api.put(
            f"/api/v1/escalation/policies/{unique('paged')}", json=body, headers=admin
        )
        assert response.status_code == 201, response.text
    whole = await every_policy(escalation_api, admin)
    names, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await escalation_api.get("/api/v1/escalation/policies", params=params, headers=admin)
        ).json()
        assert len(page["items"]) <= 2
        names += [p["name"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert names == [p["name"] for p in whole]
    forged = await escalation_api.get(
        "/api/v1/escalation/policies", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=admin
    )
    assert forged.status_code == 422


async def test_a_calendar_published_by_the_sla_service_can_be_used_by_a_policy(
    escalation_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    calendar = unique("cal")
    spec = {"timezone": "Europe/Paris", "week": {"mon": [["08:00", "18:00"]]}, "holidays": {}}
    data = {"name": calendar, "spec": spec, "updated_at": "2026-01-01T00:00:00+00:00"}
    await send_raw(
        stack.kafka,
        SLA_EVENTS,
        calendar,
        event_bytes(EventType.SLA_CALENDAR_UPDATED, calendar, data),
    )
    body = {
        "match": {"service": calendar},  # never a policy for every ticket of the stack
        "reminders": [3600],
        "final_grace_seconds": 3600,
        "calendar": calendar,
    }
    url = f"/api/v1/escalation/policies/{unique('business')}"
    for _ in range(60):
        response = await escalation_api.put(url, json=body, headers=admin)
        if response.status_code != 422:
            break
        await asyncio.sleep(0.25)
    assert response.status_code == 201, response.text
    assert response.json()["calendar"] == calendar
    assert (await escalation_api.delete(url, headers=admin)).status_code == 204
    assert (await escalation_api.delete(url, headers=admin)).status_code == 404


async def test_only_the_desk_may_read_and_only_admins_may_change_policies(
    escalation_api: httpx.AsyncClient, stack: Stack
) -> None:
    requester = stack.auth(unique("person"), "requester")
    url = f"/api/v1/escalation/policies/{unique('p')}"
    body = {"reminders": [60], "final_grace_seconds": 60}
    assert (await escalation_api.get("/api/v1/escalation/policies")).status_code == 401
    assert (await escalation_api.put(url, json=body, headers=requester)).status_code == 403
    agent = stack.auth(unique("agent"), "agent")
    assert (await escalation_api.put(url, json=body, headers=agent)).status_code == 403
    assert (await escalation_api.get("/api/v1/escalations", headers=requester)).status_code == 403


# --- ladders ----------------------------------------------------------------------------


async def test_a_requester_unanswered_before_is_escalated_to_their_manager_next_time(
    escalation_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    service = await put_policy(escalation_api, admin, reminders=[1, 2], grace=1)
    manager = await put_person(ticket_api, admin, name="Mona Manager")
    person = await put_person(ticket_api, admin, manager_id=manager["id"])
    as_requester = stack.auth(person["id"], "requester")
    async with KafkaProbe(stack.kafka, ESCALATIONS_EVENTS) as probe:
        # First episode: not blocked, so it is resolved for lack of response.
        first = await open_ticket(ticket_api, admin, person["id"], service=service)
        await wait_on_requester(ticket_api, admin, first["id"])
        resolved = await wait_status(ticket_api, admin, first["id"], "resolved")
        first_steps = await escalations(escalation_api, admin, first["id"])
        # Second episode: blocked, and one unanswered episode behind: the manager is told.
        second = await open_ticket(
            ticket_api, admin, person["id"], service=service, work_blocked=True
        )
        await wait_on_requester(ticket_api, admin, second["id"])
        second_steps = await wait_escalations(
            escalation_api, admin, second["id"], lambda items: len(items) >= 3
        )
        first_events = await probe.events_for(first["id"], count=3)
        second_events = await probe.events_for(second["id"], count=3)

    assert resolved["status"] == "resolved"
    assert "answer with a comment" in resolved["resolution"]
    assert kinds(first_steps) == [("reminder", 1), ("reminder", 2), ("auto_resolve", 3)]
    last_reminder = data_of(first_events, EventType.ESCALATION_REMINDER)[-1]
    assert (last_reminder["level"], last_reminder["of"]) == (2, 2)
    assert last_reminder["next_step"] == "auto_resolve"
    assert data_of(first_events, EventType.ESCALATION_AUTO_RESOLVE)

    assert kinds(second_steps) == [("reminder", 1), ("reminder", 2), ("manager_escalation", 3)]
    [escalated] = data_of(second_events, EventType.ESCALATION_MANAGER)
    assert escalated["to_desk_manager"] is False
    assert escalated["manager"]["email"] == manager["email"]
    assert escalated["unanswered_episodes"] == 2
    assert escalated["ticket"]["id"] == second["id"]
    reminders = data_of(second_events, EventType.ESCALATION_REMINDER)
    assert reminders[-1]["next_step"] == "manager_escalation"

    register = await escalation_api.get(
        f"/api/v1/people/{person['id']}/responsiveness", headers=admin
    )
    assert register.json()["unanswered_episodes"] == 2
    assert register.json()["frequently_unresponsive"] is True

    # Answering the auto-resolved ticket reopens it.
    comment = await ticket_api.post(
        f"/api/v1/tickets/{first['id']}/comments",
        json={"body": "Sorry, I was away. Still broken.", "visibility": "public"},
        headers=as_requester,
    )
    assert comment.status_code == 201, comment.text
    reopened = await wait_status(ticket_api, admin, first["id"], "in_progress")
    assert reopened["status"] == "in_progress"


async def test_a_blocked_difficult_requester_without_a_manager_goes_to_the_desk_manager(
    escalation_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    desk = f"{unique('desk')}@example.com"
    service = await put_policy(
        escalation_api, admin, reminders=[1], grace=1, desk_manager_email=desk
    )
    person = await put_person(ticket_api, admin, difficult=True)
    async with KafkaProbe(stack.kafka, ESCALATIONS_EVENTS) as probe:
        ticket = await open_ticket(
            ticket_api, admin, person["id"], service=service, work_blocked=True
        )
        await wait_on_requester(ticket_api, admin, ticket["id"])
        events = await probe.events_for(
            ticket["id"], type_=EventType.ESCALATION_MANAGER, timeout=20
        )
    [escalated] = [e["data"] for e in events]
    assert escalated["to_desk_manager"] is True
    assert escalated["manager"] is None
    assert escalated["desk_manager_email"] == desk
    steps = await escalations(escalation_api, admin, ticket["id"])
    assert "desk manager" in steps[-1]["detail"]
    still = await ticket_api.get(f"/api/v1/tickets/{ticket['id']}", headers=admin)
    assert still.json()["status"] == "waiting_on_user"


async def test_an_answer_stops_the_ladder_and_counts_as_answered(
    escalation_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    service = await put_policy(escalation_api, admin, reminders=[1, 3], grace=1)
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"], service=service)
    await wait_on_requester(ticket_api, admin, ticket["id"])
    await wait_escalations(escalation_api, admin, ticket["id"], lambda items: len(items) >= 1)
    answer = await ticket_api.post(
        f"/api/v1/tickets/{ticket['id']}/comments",
        json={"body": "Windows 11.", "visibility": "public"},
        headers=stack.auth(person["id"], "requester"),
    )
    assert answer.status_code == 201
    await asyncio.sleep(4)  # past the second reminder and the final step
    steps = await escalations(escalation_api, admin, ticket["id"])
    register = await escalation_api.get(
        f"/api/v1/people/{person['id']}/responsiveness", headers=admin
    )
    assert kinds(steps) == [("reminder", 1)]
    figures = register.json()
    assert (figures["answered"], figures["unanswered_episodes"]) == (1, 0)
    assert figures["median_response_seconds"] >= 1
    assert figures["frequently_unresponsive"] is False


async def test_someone_never_waited_on_has_an_empty_register(
    escalation_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = unique("person")
    response = await escalation_api.get(f"/api/v1/people/{person}/responsiveness", headers=admin)
    own = await escalation_api.get(
        f"/api/v1/people/{person}/responsiveness", headers=stack.auth(person, "requester")
    )
    other = await escalation_api.get(
        f"/api/v1/people/{person}/responsiveness", headers=stack.auth("someone", "requester")
    )
    assert response.json() == {
        "person_id": person,
        "waiting_episodes": 0,
        "answered": 0,
        "unanswered_episodes": 0,
        "away_episodes": 0,
        "median_response_seconds": None,
        "frequently_unresponsive": False,
        "open": 0,
        "withdrawn": 0,
        "away_unanswered": 0,
        "window_days": 90,
    }
    assert (own.status_code, other.status_code) == (200, 403)


# --- escalations told at once -------------------------------------------------------------


async def ticket_snapshot(
    ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack, **fields: Any
) -> dict[str, Any]:
    """A real ticket and the snapshot its created event carries."""
    person = await put_person(ticket_api, admin)
    async with KafkaProbe(stack.kafka, TICKETS_EVENTS) as probe:
        ticket = await open_ticket(ticket_api, admin, person["id"], **fields)
        [created] = await probe.events_for(ticket["id"], type_=EventType.TICKET_CREATED)
    snapshot: dict[str, Any] = created["data"]["ticket"]
    return snapshot


async def test_an_sla_breach_is_recorded_and_sent_on_with_the_desk_manager(
    escalation_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    desk = f"{unique('desk')}@example.com"
    service = await put_policy(
        escalation_api, admin, reminders=[60], grace=60, desk_manager_email=desk
    )
    snapshot = await ticket_snapshot(ticket_api, admin, stack, service=service)
    tid = snapshot["id"]
    sla = {
        "ticket_id": tid,
        "ticket_number": snapshot["number"],
        "policy": "standard",
        "policy_version": 1,
        "target": "resolution",
        "state": "breached",
        "at": "2026-01-01T10:00:00+00:00",
        "due_at": "2026-01-01T10:00:00+00:00",
        "started_at": "2026-01-01T08:00:00+00:00",
        "breached_at": "2026-01-01T10:00:00+00:00",
        "elapsed_seconds": 7200,
        "ticket": snapshot,
    }
    warning = {**sla, "state": "running", "fraction": 0.75}
    async with KafkaProbe(stack.kafka, ESCALATIONS_EVENTS) as probe:
        await send_raw(
            stack.kafka, SLA_EVENTS, tid, event_bytes(EventType.SLA_WARNING, tid, warning)
        )
        await send_raw(stack.kafka, SLA_EVENTS, tid, event_bytes(EventType.SLA_BREACHED, tid, sla))
        events = await probe.events_for(tid, count=2, type_=EventType.ESCALATION_SLA)
    told = [e["data"] for e in events]
    assert [(d["kind"], d.get("fraction")) for d in told] == [("warning", 0.75), ("breach", None)]
    assert all(d["desk_manager_email"] == desk for d in told)
    assert told[1]["ticket"]["number"] == snapshot["number"]
    assert told[1]["due_at"] == "2026-01-01T10:00:00+00:00"
    steps = await escalations(escalation_api, admin, tid)
    assert kinds(steps) == [("sla_warning", 1), ("sla_breach", 2)]
    assert "75%" in steps[0]["detail"]


async def test_negative_feedback_is_recorded_and_the_desk_manager_told(
    escalation_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    snapshot = await ticket_snapshot(ticket_api, admin, stack)
    tid = snapshot["id"]
    data = {
        "survey_id": unique("survey"),
        "ticket": snapshot,
        "rating": 1,
        "resolved": False,
        "comment": "Three days without VPN.",
    }
    async with KafkaProbe(stack.kafka, ESCALATIONS_EVENTS) as probe:
        await send_raw(
            stack.kafka, SURVEYS_EVENTS, tid, event_bytes(EventType.SURVEY_NEGATIVE, tid, data)
        )
        [event] = await probe.events_for(tid, type_=EventType.ESCALATION_NEGATIVE_FEEDBACK)
    told = event["data"]
    assert (told["rating"], told["resolved"], told["comment"]) == (1, False, data["comment"])
    assert told["desk_manager_email"] == "desk-manager@stopclock.local"
    [step] = await escalations(escalation_api, admin, tid)
    assert step["kind"] == "negative_feedback"
    assert "Three days without VPN." in step["detail"]


async def test_the_resolve_command_says_why_and_how_to_reopen(
    escalation_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    service = await put_policy(escalation_api, admin, reminders=[1], grace=0)
    person = await put_person(ticket_api, admin, locale="fr")
    async with KafkaProbe(stack.kafka, TICKETS_COMMANDS) as probe:
        ticket = await open_ticket(ticket_api, admin, person["id"], service=service)
        await wait_on_requester(ticket_api, admin, ticket["id"])
        [command] = await probe.events_for(ticket["id"], type_=EventType.COMMAND_RESOLVE)
    assert command["source"] == "stopclock/escalation"
    assert command["data"]["reason"] == "no_response"
    assert "rouvert" in command["data"]["resolution"]  # in the requester's language
    assert command["data"]["ticket_id"] == ticket["id"]
