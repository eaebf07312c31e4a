"""Which mails an event causes, to whom, and what they need to say."""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from stopclock_notification.domain.event_data import (
    MalformedEventData,
    Person,
    json_safe,
    optional_text,
    person,
    require,
    text_or_none,
    ticket_context,
    typed,
)
from stopclock_notification.domain.kinds import MailKind
from stopclock_notification.domain.local_time import parse_instant
from stopclock_notification.domain.locales import DEFAULT_LOCALE, DEFAULT_TIMEZONE, resolve_locale
from stopclock_notification.domain.planned_mail import PlannedMail
from stopclock_shared.events.models import (
    OutageEvent,
    TicketCreated,
    TicketSnapshot,
    TicketStatusChanged,
)
from stopclock_shared.events.vocabulary import Channel, ResolveReason
from stopclock_shared.languages import policy_url
from stopclock_shared.links import answer_token

# Event types this module turns into mails (API.md, "Topics and event types"). Others,
# sla.events and survey.negative included, reach people through the escalation service's
# events instead, so each fact is mailed once.
TICKET_CREATED = "stopclock.ticket.created.v1"
TICKET_STATUS_CHANGED = "stopclock.ticket.status_changed.v1"
ESCALATION_REMINDER = "stopclock.escalation.reminder.v1"
ESCALATION_MANAGER = "stopclock.escalation.manager_escalation.v1"
ESCALATION_SLA = "stopclock.escalation.sla_escalation.v1"
ESCALATION_NEGATIVE_FEEDBACK = "stopclock.escalation.negative_feedback.v1"
SURVEY_REQUESTED = "stopclock.survey.requested.v1"
OUTAGE_DECLARED = "stopclock.outage.declared.v1"
OUTAGE_UPDATED = "stopclock.outage.updated.v1"
OUTAGE_RESOLVED = "stopclock.outage.resolved.v1"

WAITING_REASONS = ("info_requested", "user_validation", "user_response")
NEXT_STEPS = ("reminder", "manager_escalation", "auto_resolve")
# The resolve command's reason when the escalation service gives up on a silent requester;
# the ticket service carries it into status_changed.reason.
NO_RESPONSE = ResolveReason.NO_RESPONSE
REQUESTER_ANSWERED = "requester_answered"
RATINGS = (1, 2, 3, 4, 5)
# Event types with a shared typed payload: planned from the model, never from raw JSON.
_TYPED: dict[str, type[BaseModel]] = {
    TICKET_CREATED: TicketCreated,
    TICKET_STATUS_CHANGED: TicketStatusChanged,
    OUTAGE_DECLARED: OutageEvent,
    OUTAGE_UPDATED: OutageEvent,
    OUTAGE_RESOLVED: OutageEvent,
}


@dataclass(frozen=True)
class _Event:
    payload: Any  # the typed model of `_TYPED` types, else the decoded JSON object
    event_id: str
    event_time: str
    survey_base_url: str
    desk_locale: str
    desk_timezone: str
    link_key: bytes
    policy_base_url: str = ""

    @property
    def data(self) -> Mapping[str, Any]:
        """The JSON object of an event without a typed payload."""
        if not isinstance(self.payload, Mapping):
            raise MalformedEventData("data must be an object")
        return self.payload

    def desk_manager(self) -> Person | None:
        email = optional_text(self.data, "desk_manager_email")
        if email is None:
            return None
        return Person(email=email, locale=self.desk_locale, timezone=self.desk_timezone)


@dataclass(frozen=True)
class _Draft:
    kind: MailKind
    to: Person | None
    ticket_id: str | None
    context: dict[str, Any]


def plan_mails(
    event_type: str,
    data: Any,
    *,
    event_id: str,
    event_time: datetime,
    survey_base_url: str,
    desk_locale: str = DEFAULT_LOCALE,
    desk_timezone: str = DEFAULT_TIMEZONE,
    link_key: bytes = b"",
    policy_base_url: str = "",
) -> list[PlannedMail]:
    """The mails event `event_type` with payload `data` causes, one per kind and recipient.

    `data` is the typed payload (`stopclock_shared.events.models`) when the consumer has it,
    else the JSON object (validated here into the model where one exists). Unknown or
    unmailed event types give []; recipients without an address are skipped.
    `desk_locale` / `desk_timezone` are used for the desk manager, who is known only by
    address. `link_key` signs the answer links of mails that wait on the requester (none
    without it). `policy_base_url` is the sla service's public base: the confirmation links
    to its policy page in the requester's language (no link without it). Raises
    `MalformedEventData` when a field the mails need is missing.
    """
    planner = _PLANNERS.get(str(event_type))
    if planner is None:
        return []
    model = _TYPED.get(str(event_type))
    event = _Event(
        payload=typed(model, data, "data") if model is not None else data,
        event_id=event_id,
        event_time=parse_instant(event_time).isoformat(),
        survey_base_url=survey_base_url,
        desk_locale=desk_locale,
        desk_timezone=desk_timezone,
        link_key=link_key,
        policy_base_url=policy_base_url,
    )
    mails: list[PlannedMail] = []
    seen: set[tuple[MailKind, str]] = set()
    for draft in planner(event):
        if draft.to is None or draft.to.email is None:
            continue
        email = draft.to.email.strip()
        if (draft.kind, email.casefold()) in seen:
            continue
        seen.add((draft.kind, email.casefold()))
        context: dict[str, Any] = {
            **draft.context,
            "recipient_name": draft.to.name,
            "event_time": event.event_time,
        }
        mails.append(
            PlannedMail(
                kind=draft.kind,
                recipient_email=email,
                recipient_id=draft.to.id,
                locale=draft.to.locale,
                timezone=draft.to.timezone,
                ticket_id=draft.ticket_id,
                event_id=event_id,
                context=json_safe(context),
            )
        )
    return mails


def _ticket(event: _Event) -> tuple[TicketSnapshot, dict[str, Any]]:
    """The snapshot of an event without a typed payload (escalation and survey events)."""
    ticket = typed(TicketSnapshot, event.data.get("ticket"), "data.ticket")
    return ticket, ticket_context(ticket)


def _waiting_reason(value: str | None) -> str:
    # An unknown reason still deserves a mail; "waiting for your response" fits any of them.
    return value if value in WAITING_REASONS else "user_response"


def _answer_links(event: _Event, ticket: TicketSnapshot, reason: str) -> dict[str, str | None]:
    """The answer page of the ticket's current wait (`/a/{token}`), and for a fix to check
    the one-click "it works" / "it still fails" links; all None when the wait is unnamed
    (no `waiting_since`) or no key signs links: the mail then asks for a reply only."""
    links: dict[str, str | None] = {"url": None, "yes": None, "no": None}
    if not event.link_key or ticket.waiting_since is None:
        return links
    try:
        ticket_id = uuid.UUID(ticket.id)
    except ValueError:
        return links
    token = answer_token(event.link_key, ticket_id, ticket.waiting_since)
    url = f"{event.survey_base_url.rstrip('/')}/a/{token}"
    links["url"] = url
    if reason == "user_validation":
        links["yes"] = f"{url}?answer=yes"
        links["no"] = f"{url}?answer=no"
    return links


def _ticket_created(event: _Event) -> list[_Draft]:
    created: TicketCreated = event.payload
    ticket = created.ticket
    ctx = ticket_context(ticket)
    # A ticket opened by mail: the confirmation answers that mail, in its thread.
    by_mail = created.channel == Channel.EMAIL and bool(created.source_message_id)
    requester = person(ticket.requester)
    # The policy page in the mail's language: what the targets promise, when the clock stops.
    locale = requester.locale if requester is not None else DEFAULT_LOCALE
    base = event.policy_base_url
    context: dict[str, Any] = {
        "ticket": ctx,
        "from_email": by_mail,
        "in_reply_to": created.source_message_id if by_mail else None,
        "policy_url": policy_url(base, resolve_locale(locale)) if base else None,
    }
    return [_Draft(MailKind.TICKET_OPENED, requester, ctx["id"], context)]


def _status_changed(event: _Event) -> list[_Draft]:
    change: TicketStatusChanged = event.payload
    ticket = change.ticket
    ctx = ticket_context(ticket)
    requester = person(ticket.requester)
    to_status = change.to_status
    reason = change.reason or None

    if to_status == "waiting_on_user":
        waiting = _waiting_reason(reason or ctx["waiting_reason"])
        context: dict[str, Any] = {
            "ticket": ctx,
            "reason": waiting,
            "note": text_or_none(change.note),
            "answer": _answer_links(event, ticket, waiting),
        }
        return [_Draft(MailKind.INFO_REQUESTED, requester, ctx["id"], context)]
    if (
        change.from_status == "waiting_on_user"
        and to_status == "in_progress"
        and _caused_by_requester(change, requester)
    ):
        return [_Draft(MailKind.USER_RESPONSE_RECEIVED, requester, ctx["id"], {"ticket": ctx})]
    if to_status == "resolved":
        resolved_context: dict[str, Any] = {
            "ticket": ctx,
            "resolution": ctx["resolution"] or text_or_none(change.note),
            "auto_resolved": reason == NO_RESPONSE,
            # "Yes, it works" on the answer page: thank them rather than announce it.
            "confirmed": reason == ResolveReason.CONFIRMED_BY_REQUESTER,
        }
        return [_Draft(MailKind.RESOLVED, requester, ctx["id"], resolved_context)]
    if to_status == "closed":
        return [_Draft(MailKind.CLOSED, requester, ctx["id"], {"ticket": ctx})]
    return []


def _caused_by_requester(change: TicketStatusChanged, requester: Person | None) -> bool:
    actor = change.actor_id
    by_requester = requester is not None and actor is not None and actor == requester.id
    return by_requester or REQUESTER_ANSWERED in (change.reason, change.note)


def _reminder(event: _Event) -> list[_Draft]:
    ticket, ctx = _ticket(event)
    requester = person(ticket.requester)
    next_step = optional_text(event.data, "next_step")
    waiting = _waiting_reason(ctx["waiting_reason"])
    context: dict[str, Any] = {
        "ticket": ctx,
        "level": _count(event.data, "level"),
        "of": _count(event.data, "of"),
        "next_step": next_step if next_step in NEXT_STEPS else "reminder",
        "deadline": event.data.get("deadline"),
        "waiting_reason": waiting,
        "manager_name": requester.manager_name if requester else None,
        "answer": _answer_links(event, ticket, waiting),
    }
    return [_Draft(MailKind.REMINDER, requester, ctx["id"], context)]


def _count(data: Mapping[str, Any], key: str) -> int:
    value = require(data, key, "data")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedEventData(f"data.{key} must be a whole number")
    try:
        return int(value)
    except ValueError:
        raise MalformedEventData(f"data.{key} must be a whole number") from None


def _manager_escalation(event: _Event) -> list[_Draft]:
    _, ctx = _ticket(event)
    manager = person(event.data.get("manager"))
    no_manager = manager is None or manager.email is None
    to_desk = bool(event.data.get("to_desk_manager")) or no_manager
    context: dict[str, Any] = {
        "ticket": ctx,
        "to_desk_manager": to_desk,
        "no_manager_on_record": no_manager,
        "unanswered_episodes": event.data.get("unanswered_episodes"),
        "waiting_reason": _waiting_reason(ctx["waiting_reason"]),
    }
    recipient = event.desk_manager() if to_desk else manager
    return [_Draft(MailKind.MANAGER_ESCALATION, recipient, ctx["id"], context)]


def _sla_escalation(event: _Event) -> list[_Draft]:
    ticket, ctx = _ticket(event)
    assignee = person(ticket.assignee)
    has_assignee = assignee is not None and assignee.email is not None
    context: dict[str, Any] = {
        "ticket": ctx,
        "target": optional_text(event.data, "target") or "resolution",
        "fraction": event.data.get("fraction"),
        "due_at": event.data.get("due_at"),
    }
    kind = optional_text(event.data, "kind")
    if kind == "warning":
        # The group has no address in the contract: with nobody assigned, the desk manager
        # is the one who can still get the ticket picked up in time.
        recipient = assignee if has_assignee else event.desk_manager()
        return [_Draft(MailKind.SLA_WARNING, recipient, ctx["id"], context)]
    if kind == "breach":
        return [
            _Draft(MailKind.SLA_BREACHED, assignee, ctx["id"], context),
            _Draft(MailKind.SLA_BREACHED, event.desk_manager(), ctx["id"], context),
        ]
    return []


def _negative_feedback(event: _Event) -> list[_Draft]:
    _, ctx = _ticket(event)
    resolved = event.data.get("resolved")
    context: dict[str, Any] = {
        "ticket": ctx,
        "rating": event.data.get("rating"),
        "resolved": None if resolved is None else bool(resolved),
        "comment": optional_text(event.data, "comment"),
    }
    return [_Draft(MailKind.NEGATIVE_FEEDBACK, event.desk_manager(), ctx["id"], context)]


def _survey_requested(event: _Event) -> list[_Draft]:
    ticket, ctx = _ticket(event)
    url = _survey_url(event)
    separator = "&" if "?" in url else "?"
    context: dict[str, Any] = {
        "ticket": ctx,
        "survey_url": url,
        "rating_links": [
            {"rating": rating, "url": f"{url}{separator}rating={rating}"} for rating in RATINGS
        ],
        "expires_at": event.data.get("expires_at"),
    }
    return [_Draft(MailKind.SURVEY_INVITATION, person(ticket.requester), ctx["id"], context)]


def _survey_url(event: _Event) -> str:
    """The survey's absolute address: the event's `url` when absolute, else built on the base."""
    base = event.survey_base_url.rstrip("/")
    url = optional_text(event.data, "url")
    if url is not None and url.startswith(("http://", "https://")):
        return url
    if url is not None:
        return f"{base}/{url.lstrip('/')}"
    return f"{base}/s/{require(event.data, 'token', 'data')}"


def _outage(kind: MailKind) -> Callable[[_Event], list[_Draft]]:
    def plan(event: _Event) -> list[_Draft]:
        news: OutageEvent = event.payload
        outage = news.outage
        context: dict[str, Any] = {
            "outage": {
                "id": outage.id,
                "service": outage.service,
                "title": outage.title,
                "description": text_or_none(outage.description),
                "impact": text_or_none(outage.impact),
                "created_at": outage.created_at,
                "resolved_at": outage.resolved_at,
            },
            "message": text_or_none(news.message),
        }
        return [_Draft(kind, person(sub), None, context) for sub in news.subscribers]

    return plan


_PLANNERS: dict[str, Callable[[_Event], list[_Draft]]] = {
    TICKET_CREATED: _ticket_created,
    TICKET_STATUS_CHANGED: _status_changed,
    ESCALATION_REMINDER: _reminder,
    ESCALATION_MANAGER: _manager_escalation,
    ESCALATION_SLA: _sla_escalation,
    ESCALATION_NEGATIVE_FEEDBACK: _negative_feedback,
    SURVEY_REQUESTED: _survey_requested,
    OUTAGE_DECLARED: _outage(MailKind.OUTAGE_NOTICE),
    OUTAGE_UPDATED: _outage(MailKind.OUTAGE_UPDATE),
    OUTAGE_RESOLVED: _outage(MailKind.OUTAGE_RESOLVED),
}

MAILED_EVENT_TYPES: frozenset[str] = frozenset(_PLANNERS)
