"""Which mails an event causes, to whom, and what they need to say.

Planning reads the typed payloads of the shared contract (`stopclock_shared.events`): the
consumer decoded them, so a payload here always has the fields its model requires.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from stopclock_notification.domain.event_data import (
    Person,
    json_safe,
    person,
    text_or_none,
    ticket_context,
)
from stopclock_notification.domain.kinds import MailKind
from stopclock_notification.domain.local_time import parse_instant
from stopclock_notification.domain.locales import DEFAULT_LOCALE, DEFAULT_TIMEZONE, resolve_locale
from stopclock_notification.domain.planned_mail import PlannedMail
from stopclock_shared.events.escalations import (
    ManagerEscalated,
    NegativeFeedbackEscalated,
    RequesterReminded,
    SlaEscalated,
)
from stopclock_shared.events.outages import OutageEvent
from stopclock_shared.events.payload import Payload
from stopclock_shared.events.surveys import SurveyRequested
from stopclock_shared.events.tickets import TicketCreated, TicketSnapshot, TicketStatusChanged
from stopclock_shared.events.types import EventType
from stopclock_shared.events.vocabulary import (
    REQUESTER_ANSWERED,
    Channel,
    ResolveReason,
    Status,
    WaitingReason,
)
from stopclock_shared.languages import policy_url
from stopclock_shared.links import answer_token

# The payloads of the event types this module turns into mails (API.md, "Topics and event
# types"). Others, sla.events and survey.negative included, reach people through the
# escalation service's events instead, so each fact is mailed once.
MailedEvent = (
    TicketCreated
    | TicketStatusChanged
    | RequesterReminded
    | ManagerEscalated
    | SlaEscalated
    | NegativeFeedbackEscalated
    | SurveyRequested
    | OutageEvent
)

WAITING_REASONS = tuple(WaitingReason)
RATINGS = (1, 2, 3, 4, 5)
P = TypeVar("P", bound=Payload)


@dataclass(frozen=True)
class Desk:
    """What planning needs beyond the event: survey, answer and policy-page links, the desk
    manager's language. ``link_key`` signs answer links (``Settings.link_key``); empty: no
    links. ``policy_base_url``: the sla service's public base (the confirmation links to its
    policy page)."""

    survey_base_url: str
    locale: str = DEFAULT_LOCALE
    timezone: str = DEFAULT_TIMEZONE
    link_key: bytes = b""
    policy_base_url: str = ""


@dataclass(frozen=True)
class _Event:
    payload: MailedEvent
    event_time: str
    desk: Desk

    def as_(self, model: type[P]) -> P:
        """The payload as the model its event type carries (the routes guarantee it)."""
        if not isinstance(self.payload, model):
            raise TypeError(f"expected {model.__name__}, got {type(self.payload).__name__}")
        return self.payload

    def desk_manager(self, email: str | None) -> Person | None:
        """The desk manager, known only by address: written to in the desk's language."""
        address = text_or_none(email)
        if address is None:
            return None
        return Person(email=address, locale=self.desk.locale, timezone=self.desk.timezone)


@dataclass(frozen=True)
class _Draft:
    kind: MailKind
    to: Person | None
    ticket_id: str | None
    context: dict[str, Any]


def plan_mails(
    event_type: EventType | str,
    payload: MailedEvent,
    *,
    event_id: str,
    event_time: datetime,
    desk: Desk,
) -> list[PlannedMail]:
    """The mails an event of ``event_type`` causes, one per kind and recipient.

    Unmailed event types give []; recipients without an address are skipped.
    """
    planner = _PLANNERS.get(str(event_type))
    if planner is None:
        return []
    event = _Event(payload, parse_instant(event_time).isoformat(), desk)
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


def _waiting_reason(value: str | None) -> str:
    # An unknown reason still deserves a mail; "waiting for your response" fits any of them.
    return value if value in WAITING_REASONS else WaitingReason.USER_RESPONSE


def _answer_links(event: _Event, ticket: TicketSnapshot, reason: str) -> dict[str, str | None]:
    """The answer page of the ticket's current wait (`/a/{token}`), and for a fix to check
    the one-click "it works" / "it still fails" links; all None when the wait is unnamed
    (no `waiting_since`) or no key signs links: the mail then asks for a reply only."""
    links: dict[str, str | None] = {"url": None, "yes": None, "no": None}
    key = event.desk.link_key
    if not key or ticket.waiting_since is None:
        return links
    try:
        ticket_id = uuid.UUID(ticket.id)
    except ValueError:
        return links
    token = answer_token(key, ticket_id, ticket.waiting_since)
    url = f"{event.desk.survey_base_url.rstrip('/')}/a/{token}"
    links["url"] = url
    if reason == WaitingReason.USER_VALIDATION:
        links["yes"] = f"{url}?answer=yes"
        links["no"] = f"{url}?answer=no"
    return links


def _ticket_created(event: _Event) -> list[_Draft]:
    created = event.as_(TicketCreated)
    ticket = created.ticket
    ctx = ticket_context(ticket)
    # A ticket opened by mail: the confirmation answers that mail, in its thread.
    by_mail = created.channel == Channel.EMAIL and bool(created.source_message_id)
    requester = person(ticket.requester)
    # The policy page in the mail's language: what the targets promise, when the clock stops.
    locale = requester.locale if requester is not None else DEFAULT_LOCALE
    base = event.desk.policy_base_url
    context: dict[str, Any] = {
        "ticket": ctx,
        "from_email": by_mail,
        "in_reply_to": created.source_message_id if by_mail else None,
        "policy_url": policy_url(base, resolve_locale(locale)) if base else None,
    }
    return [_Draft(MailKind.TICKET_OPENED, requester, ctx["id"], context)]


def _status_changed(event: _Event) -> list[_Draft]:
    change = event.as_(TicketStatusChanged)
    ticket = change.ticket
    ctx = ticket_context(ticket)
    requester = person(ticket.requester)
    to_status = change.to_status
    reason = change.reason or None

    if to_status == Status.WAITING_ON_USER:
        waiting = _waiting_reason(reason or ctx["waiting_reason"])
        context: dict[str, Any] = {
            "ticket": ctx,
            "reason": waiting,
            "note": text_or_none(change.note),
            "answer": _answer_links(event, ticket, waiting),
        }
        return [_Draft(MailKind.INFO_REQUESTED, requester, ctx["id"], context)]
    if (
        change.from_status == Status.WAITING_ON_USER
        and to_status == "in_progress"
        and _caused_by_requester(change, requester)
    ):
        return [_Draft(MailKind.USER_RESPONSE_RECEIVED, requester, ctx["id"], {"ticket": ctx})]
    if to_status == "resolved":
        resolved_context: dict[str, Any] = {
            "ticket": ctx,
            "resolution": ctx["resolution"] or text_or_none(change.note),
            "auto_resolved": reason == ResolveReason.NO_RESPONSE,
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
    reminded = event.as_(RequesterReminded)
    ticket = reminded.ticket
    ctx = ticket_context(ticket)
    requester = person(ticket.requester)
    waiting = _waiting_reason(ctx["waiting_reason"])
    context: dict[str, Any] = {
        "ticket": ctx,
        "level": reminded.level,
        "of": reminded.of,
        "next_step": reminded.next_step,
        "deadline": reminded.deadline,
        "waiting_reason": waiting,
        "manager_name": requester.manager_name if requester else None,
        "answer": _answer_links(event, ticket, waiting),
    }
    return [_Draft(MailKind.REMINDER, requester, ctx["id"], context)]


def _manager_escalation(event: _Event) -> list[_Draft]:
    escalated = event.as_(ManagerEscalated)
    ctx = ticket_context(escalated.ticket)
    manager = person(escalated.manager)
    no_manager = manager is None or manager.email is None
    to_desk = escalated.to_desk_manager or no_manager
    context: dict[str, Any] = {
        "ticket": ctx,
        "to_desk_manager": to_desk,
        "no_manager_on_record": no_manager,
        "unanswered_episodes": escalated.unanswered_episodes,
        "waiting_reason": _waiting_reason(ctx["waiting_reason"]),
    }
    recipient = event.desk_manager(escalated.desk_manager_email) if to_desk else manager
    return [_Draft(MailKind.MANAGER_ESCALATION, recipient, ctx["id"], context)]


def _sla_escalation(event: _Event) -> list[_Draft]:
    escalated = event.as_(SlaEscalated)
    ctx = ticket_context(escalated.ticket)
    assignee = person(escalated.ticket.assignee)
    has_assignee = assignee is not None and assignee.email is not None
    desk_manager = event.desk_manager(escalated.desk_manager_email)
    context: dict[str, Any] = {
        "ticket": ctx,
        "target": text_or_none(escalated.target) or "resolution",
        "fraction": escalated.fraction,
        "due_at": escalated.due_at,
    }
    if escalated.kind == "warning":
        # The group has no address in the contract: with nobody assigned, the desk manager
        # is the one who can still get the ticket picked up in time.
        recipient = assignee if has_assignee else desk_manager
        return [_Draft(MailKind.SLA_WARNING, recipient, ctx["id"], context)]
    return [
        _Draft(MailKind.SLA_BREACHED, assignee, ctx["id"], context),
        _Draft(MailKind.SLA_BREACHED, desk_manager, ctx["id"], context),
    ]


def _negative_feedback(event: _Event) -> list[_Draft]:
    feedback = event.as_(NegativeFeedbackEscalated)
    ctx = ticket_context(feedback.ticket)
    context: dict[str, Any] = {
        "ticket": ctx,
        "rating": feedback.rating,
        "resolved": feedback.resolved,
        "comment": text_or_none(feedback.comment),
    }
    recipient = event.desk_manager(feedback.desk_manager_email)
    return [_Draft(MailKind.NEGATIVE_FEEDBACK, recipient, ctx["id"], context)]


def _survey_requested(event: _Event) -> list[_Draft]:
    survey = event.as_(SurveyRequested)
    ctx = ticket_context(survey.ticket)
    url = _survey_url(event.desk.survey_base_url, survey)
    separator = "&" if "?" in url else "?"
    context: dict[str, Any] = {
        "ticket": ctx,
        "survey_url": url,
        "rating_links": [
            {"rating": rating, "url": f"{url}{separator}rating={rating}"} for rating in RATINGS
        ],
        "expires_at": survey.expires_at,
    }
    requester = person(survey.ticket.requester)
    return [_Draft(MailKind.SURVEY_INVITATION, requester, ctx["id"], context)]


def _survey_url(base_url: str, survey: SurveyRequested) -> str:
    """The survey's absolute address: the event's `url` when absolute, else built on the base."""
    base = base_url.rstrip("/")
    url = text_or_none(survey.url)
    if url is not None and url.startswith(("http://", "https://")):
        return url
    if url is not None:
        return f"{base}/{url.lstrip('/')}"
    return f"{base}/s/{survey.token}"


def _outage(kind: MailKind) -> Callable[[_Event], list[_Draft]]:
    def plan(event: _Event) -> list[_Draft]:
        news = event.as_(OutageEvent)
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
    EventType.TICKET_CREATED: _ticket_created,
    EventType.TICKET_STATUS_CHANGED: _status_changed,
    EventType.ESCALATION_REMINDER: _reminder,
    EventType.ESCALATION_MANAGER: _manager_escalation,
    EventType.ESCALATION_SLA: _sla_escalation,
    EventType.ESCALATION_NEGATIVE_FEEDBACK: _negative_feedback,
    EventType.SURVEY_REQUESTED: _survey_requested,
    EventType.OUTAGE_DECLARED: _outage(MailKind.OUTAGE_NOTICE),
    EventType.OUTAGE_UPDATED: _outage(MailKind.OUTAGE_UPDATE),
    EventType.OUTAGE_RESOLVED: _outage(MailKind.OUTAGE_RESOLVED),
}

MAILED_EVENT_TYPES: frozenset[EventType] = frozenset(EventType(t) for t in _PLANNERS)
