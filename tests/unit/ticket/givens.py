"""The starting points of the use case tests: who acts, who is in the directory, which
tickets exist. Every helper goes through the use cases themselves, so a state is reached
the way production reaches it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from stopclock_shared.auth import Principal, Role
from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.types import EventType
from stopclock_ticket import use_cases
from stopclock_ticket.records import TicketRecord
from stopclock_ticket.schemas import PersonIn, TicketCreate, TransitionIn

from .fakes import TicketUow

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
AGENT = Principal("agent-1", frozenset({Role.AGENT}))
ADMIN = Principal("admin-1", frozenset({Role.ADMIN}))
REQUESTER = "alice"
BOSS = "carol"
ALICE = Principal(REQUESTER, frozenset({Role.REQUESTER}))
BOB = Principal("bob", frozenset({Role.REQUESTER}))


def payload(uow: TicketUow, type_: EventType) -> dict[str, Any]:
    """The data of the one event of ``type_`` the use cases emitted."""
    (envelope,) = uow.envelopes(type_)
    return envelope.data


def command_envelope(source: str = "stopclock/escalation") -> Envelope:
    """The envelope a command arrived in (its cause)."""
    return new_envelope(EventType.COMMAND_RESOLVE, source=source, subject="t", time=NOW, data={})


async def directory(uow: TicketUow) -> None:
    """Alice (managed by Carol) and Bob in the directory."""
    await use_cases.put_person(uow, BOSS, PersonIn(name="Carol", email="carol@example.com"), NOW)
    await use_cases.put_person(
        uow,
        REQUESTER,
        PersonIn(name="Alice", email="alice@example.com", manager_id=BOSS),
        NOW,
    )
    await use_cases.put_person(uow, "bob", PersonIn(name="Bob", email="bob@example.com"), NOW)


def ticket_body(requester: str = REQUESTER, **more: Any) -> TicketCreate:
    fields: dict[str, Any] = {
        "type": "incident",
        "title": "VPN drops every hour",
        "description": "Since Monday.",
        "requester_id": requester,
        "impact": "medium",
        "urgency": "high",
    }
    return TicketCreate(**(fields | more))


async def opened(uow: TicketUow, **more: Any) -> TicketRecord:
    """A new ticket of Alice's, opened by the desk, with the events so far cleared."""
    await directory(uow)
    ticket = await use_cases.open_ticket(uow, AGENT, ticket_body(**more), NOW)
    uow.emitted.clear()
    return ticket


async def moved(uow: TicketUow, ticket: TicketRecord, *steps: dict[str, Any]) -> TicketRecord:
    """``ticket`` after the agent's transitions ``steps``, events cleared."""
    for step in steps:
        ticket = await use_cases.change_status(uow, AGENT, ticket["id"], TransitionIn(**step), NOW)
    uow.emitted.clear()
    return ticket


IN_PROGRESS = {"to": "in_progress"}
WAITING = {"to": "waiting_on_user", "reason": "info_requested", "note": "Which office?"}
RESOLVED = {"to": "resolved", "resolution": "Replaced the VPN profile"}


def ticket_id(ticket: TicketRecord) -> uuid.UUID:
    tid = ticket["id"]
    assert isinstance(tid, uuid.UUID)
    return tid
