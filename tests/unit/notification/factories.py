"""Event payloads shaped as in docs/events.md, with random ids so tests never collide, and
`plan_mails` taking them as JSON (decoded by the contract's model, as the consumer does)."""

from datetime import datetime
from typing import Any, cast
from uuid import uuid4

from stopclock_notification.domain import Desk, MailedEvent, PlannedMail
from stopclock_notification.domain import plan_mails as plan_typed
from stopclock_notification.domain.locales import DEFAULT_LOCALE, DEFAULT_TIMEZONE
from stopclock_shared.events.contract import CONTRACT
from stopclock_shared.events.types import EventType
from stopclock_shared.links import link_key

SURVEY_BASE_URL = "https://survey.example.test"
LINK_KEY = link_key("unit-test-link-secret")
# When the factories' waits on the requester began (TicketSnapshot.waiting_since).
WAIT_START = "2024-05-14T07:45:00+00:00"


def new_id() -> str:
    """A fresh random id."""
    return str(uuid4())


def person_ref(**overrides: Any) -> dict[str, Any]:
    """A `PersonRef`."""
    person_id = new_id()
    ref: dict[str, Any] = {
        "id": person_id,
        "name": "Ada Lovelace",
        "email": f"ada.{person_id[:8]}@example.test",
        "timezone": "Europe/Paris",
        "locale": "en",
        "vip": False,
        "difficult": False,
        "manager_id": None,
        "manager_email": None,
        "manager_name": None,
    }
    return {**ref, **overrides}


def ticket_snapshot(**overrides: Any) -> dict[str, Any]:
    """A `TicketSnapshot` of an incident assigned to an agent."""
    assignee = person_ref(name="Grace Hopper", timezone="America/New_York")
    ticket: dict[str, Any] = {
        "id": new_id(),
        "number": "INC0000123",
        "type": "incident",
        "title": "Printer on floor 3 jams on every page",
        "description": "Since Monday every print job jams.",
        "status": "in_progress",
        "waiting_reason": None,
        "priority": "P2",
        "impact": "medium",
        "urgency": "high",
        "requester": person_ref(),
        "assignee_id": assignee["id"],
        "assignee": assignee,
        "group": "Workplace",
        "service": "Printing",
        "category": "hardware",
        "work_blocked": True,
        "created_at": "2024-05-14T07:30:00+00:00",
        "updated_at": "2024-05-14T07:30:00+00:00",
        "resolved_at": None,
        "closed_at": None,
        "resolution": None,
        "version": 1,
    }
    return {**ticket, **overrides}


def ticket_created(
    ticket: dict[str, Any] | None = None,
    *,
    channel: str = "api",
    source_message_id: str | None = None,
) -> dict[str, Any]:
    """`stopclock.ticket.created.v1` data; `channel` "email" for a ticket opened by mail."""
    return {
        "ticket": ticket or ticket_snapshot(status="new"),
        "channel": channel,
        "source_message_id": source_message_id,
    }


def status_changed(
    from_status: str,
    to_status: str,
    *,
    ticket: dict[str, Any] | None = None,
    reason: str | None = None,
    note: str | None = None,
    actor_id: str | None = None,
    actor_roles: list[str] | None = None,
) -> dict[str, Any]:
    """`stopclock.ticket.status_changed.v1` data; the ticket snapshot follows the change."""
    snapshot = ticket or ticket_snapshot()
    waiting = to_status == "waiting_on_user"
    snapshot = {
        **snapshot,
        "status": to_status,
        "waiting_reason": reason if waiting else None,
        "waiting_since": (snapshot.get("waiting_since", WAIT_START) if waiting else None),
    }
    return {
        "ticket": snapshot,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason,
        "note": note,
        "actor_id": actor_id if actor_id is not None else snapshot["assignee_id"],
        "actor_roles": actor_roles if actor_roles is not None else ["agent"],
    }


def waiting_ticket(reason: str = "info_requested", **overrides: Any) -> dict[str, Any]:
    """A ticket waiting on its requester (since `WAIT_START`)."""
    fields: dict[str, Any] = {"waiting_since": WAIT_START, **overrides}
    return ticket_snapshot(status="waiting_on_user", waiting_reason=reason, **fields)


def reminder(
    level: int = 1, of: int = 2, next_step: str = "reminder", **overrides: Any
) -> dict[str, Any]:
    """`stopclock.escalation.reminder.v1` data."""
    data: dict[str, Any] = {
        "ticket": waiting_ticket(),
        "level": level,
        "of": of,
        "next_step": next_step,
        "deadline": "2024-05-16T07:30:00+00:00",
    }
    return {**data, **overrides}


def manager_escalation(**overrides: Any) -> dict[str, Any]:
    """`stopclock.escalation.manager_escalation.v1` data, to the requester's manager."""
    data: dict[str, Any] = {
        "ticket": waiting_ticket(),
        "manager": person_ref(name="Charles Babbage", locale="en", timezone="Europe/London"),
        "to_desk_manager": False,
        "desk_manager_email": "desk.manager@example.test",
        "unanswered_episodes": 3,
    }
    return {**data, **overrides}


def sla_escalation(kind: str = "warning", **overrides: Any) -> dict[str, Any]:
    """`stopclock.escalation.sla_escalation.v1` data."""
    data: dict[str, Any] = {
        "ticket": ticket_snapshot(),
        "target": "resolution",
        "kind": kind,
        "fraction": 0.75 if kind == "warning" else None,
        "due_at": "2024-05-15T16:00:00+00:00",
        "desk_manager_email": "desk.manager@example.test",
    }
    return {**data, **overrides}


def negative_feedback(**overrides: Any) -> dict[str, Any]:
    """`stopclock.escalation.negative_feedback.v1` data."""
    data: dict[str, Any] = {
        "ticket": ticket_snapshot(status="in_progress", resolution="Replaced the fuser."),
        "rating": 2,
        "resolved": False,
        "comment": "It still jams and nobody called me back.",
        "desk_manager_email": "desk.manager@example.test",
    }
    return {**data, **overrides}


def survey_requested(**overrides: Any) -> dict[str, Any]:
    """`stopclock.survey.requested.v1` data."""
    token = new_id().replace("-", "")
    data: dict[str, Any] = {
        "survey_id": new_id(),
        "token": token,
        "url": f"{SURVEY_BASE_URL}/s/{token}",
        "ticket": ticket_snapshot(status="resolved", resolution="Replaced the fuser."),
        "expires_at": "2024-05-28T07:30:00+00:00",
    }
    return {**data, **overrides}


def outage_event(
    subscribers: list[dict[str, Any]] | None = None,
    message: str = "We have found the cause and are restarting the mail servers.",
    **outage_overrides: Any,
) -> dict[str, Any]:
    """`stopclock.outage.*.v1` data."""
    outage: dict[str, Any] = {
        "id": new_id(),
        "service": "Email",
        "title": "Mail delivery delayed",
        "description": "Incoming mail arrives with up to two hours of delay.",
        "impact": "high",
        "status": "active",
        "created_at": "2024-05-14T06:00:00+00:00",
        "resolved_at": None,
    }
    return {
        "outage": {**outage, **outage_overrides},
        "subscribers": subscribers if subscribers is not None else [person_ref()],
        "message": message,
    }


def payload_of(event_type: str, data: dict[str, Any]) -> MailedEvent:
    """``data`` decoded by the model of ``event_type``, as the consumer hands it over."""
    return cast(MailedEvent, CONTRACT[EventType(event_type)].model.model_validate(data))


def plan_mails(
    event_type: str,
    data: dict[str, Any],
    *,
    event_id: str,
    event_time: datetime,
    survey_base_url: str = SURVEY_BASE_URL,
    desk_locale: str = DEFAULT_LOCALE,
    desk_timezone: str = DEFAULT_TIMEZONE,
    link_key: bytes = b"",
    policy_base_url: str = "",
) -> list[PlannedMail]:
    """The mails of an event given as its JSON ``data``."""
    desk = Desk(
        survey_base_url=survey_base_url,
        locale=desk_locale,
        timezone=desk_timezone,
        link_key=link_key,
        policy_base_url=policy_base_url,
    )
    payload = payload_of(event_type, data)
    return plan_typed(event_type, payload, event_id=event_id, event_time=event_time, desk=desk)
