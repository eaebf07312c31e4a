"""Ticket events as the sla service receives them (envelopes with typed payloads)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.tickets import (
    TicketCommented,
    TicketCreated,
    TicketPriorityChanged,
    TicketSnapshot,
    TicketStatusChanged,
)

TICKET_ID = "6f1c1b8e-0000-4000-8000-000000000001"


def snapshot(version: int, at: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "id": TICKET_ID,
        "number": "INC0000042",
        "type": "incident",
        "title": "VPN down",
        "description": "It times out.",
        "status": "new",
        "waiting_reason": None,
        "priority": "P3",
        "impact": "medium",
        "urgency": "medium",
        "requester": {"id": "req-1", "name": "Rita", "email": "rita@example.com"},
        "assignee_id": None,
        "group": None,
        "service": "vpn",
        "category": None,
        "work_blocked": False,
        "created_at": at.isoformat(),
        "updated_at": at.isoformat(),
        "resolved_at": None,
        "closed_at": None,
        "resolution": None,
        "version": version,
        **fields,
    }


def event(type_: str, at: datetime, sequence: int | None, data: dict[str, Any]) -> Envelope:
    return new_envelope(
        f"stopclock.ticket.{type_}.v1",
        source="stopclock/ticket",
        subject=TICKET_ID,
        time=at,
        data=data,
        sequence=sequence,
    )


def created(at: datetime, **fields: Any) -> tuple[Envelope, TicketCreated]:
    env = event("created", at, 1, {"ticket": snapshot(1, at, **fields)})
    return env, TicketCreated.model_validate(env.data)


def status_changed(
    at: datetime, version: int, to: str, reason: str | None = None, *, sequence: bool = True
) -> tuple[Envelope, TicketStatusChanged]:
    data = {
        "ticket": snapshot(version, at, status=to, waiting_reason=reason),
        "from_status": "new",
        "to_status": to,
        "reason": reason,
    }
    env = event("status_changed", at, version if sequence else None, data)
    return env, TicketStatusChanged.model_validate(env.data)


def commented(
    at: datetime, version: int, *, public: bool, by_requester: bool
) -> tuple[Envelope, TicketCommented]:
    comment = {
        "id": "c-1",
        "body": "Looking into it",
        "visibility": "public" if public else "internal",
        "author_id": "req-1" if by_requester else "agent-1",
        "author_is_requester": by_requester,
        "created_at": at.isoformat(),
    }
    env = event("commented", at, version, {"ticket": snapshot(version, at), "comment": comment})
    return env, TicketCommented.model_validate(env.data)


def priority_changed(at: datetime, version: int, to: str) -> tuple[Envelope, TicketPriorityChanged]:
    data = {"ticket": snapshot(version, at, priority=to), "from_priority": "P3", "to_priority": to}
    env = event("priority_changed", at, version, data)
    return env, TicketPriorityChanged.model_validate(env.data)


def ticket_of(data: dict[str, Any]) -> TicketSnapshot:
    return TicketSnapshot.model_validate(data)
