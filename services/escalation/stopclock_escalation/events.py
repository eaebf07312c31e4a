"""The events the escalation service emits (payloads: docs/events.md), built from the
contract's models: on ``escalations.events`` and, to resolve a ticket nobody answered,
the command on ``tickets.commands``; all keyed by ticket id."""

from __future__ import annotations

from datetime import datetime

from stopclock_shared.events import escalations
from stopclock_shared.events.commands import ResolveCommand
from stopclock_shared.events.contract import CONTRACT
from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.payload import Payload
from stopclock_shared.events.people import PersonRef
from stopclock_shared.events.sla import SlaClockEvent
from stopclock_shared.events.surveys import SurveyAnswered
from stopclock_shared.events.tickets import TicketSnapshot
from stopclock_shared.events.types import EventType
from stopclock_shared.events.vocabulary import ResolveReason

from .domain.ladder import (
    EscalationAction,
    ManagerEscalated,
    RequesterReminded,
    TicketAutoResolved,
)

SOURCE = "stopclock/escalation"
Outgoing = tuple[str, str, Envelope]  # (topic, key, envelope), for ``uow.emit``


def _step_event(
    type_: EventType, payload: Payload, key: str, at: datetime, correlation_id: str | None
) -> Outgoing:
    """An event of a ladder's step: stamped with the step's instant, in the episode's
    correlation (the ticket event that opened it)."""
    envelope = new_envelope(
        type_,
        source=SOURCE,
        subject=key,
        time=at,
        data=payload.wire(),
        correlation_id=correlation_id,
    )
    return CONTRACT[type_].topic, key, envelope


def _caused_event(type_: EventType, payload: Payload, key: str, cause: Envelope) -> Outgoing:
    """An event another service's event caused, at that event's time."""
    envelope = new_envelope(
        type_, source=SOURCE, subject=key, time=cause.time, data=payload.wire(), cause=cause
    )
    return CONTRACT[type_].topic, key, envelope


def manager_ref(requester: PersonRef) -> PersonRef | None:
    """The requester's manager, from what the requester's snapshot knows of them.

    The snapshot has the manager's id, name and address only; their time zone and locale
    are taken to be the requester's (same organisation), which beats UTC/English.
    """
    email = requester.manager_email
    if not email:
        return None
    return PersonRef.model_validate(
        {
            "id": requester.manager_id,
            "name": requester.manager_name or email,
            "email": email,
            "timezone": requester.timezone or "UTC",
            "locale": requester.locale or "en",
            "vip": False,
            "difficult": False,
            "manager_id": None,
            "manager_email": None,
            "manager_name": None,
        }
    )


def ladder_events(
    action: EscalationAction, ticket: TicketSnapshot, correlation_id: str | None
) -> list[Outgoing]:
    """What a step of the ladder announces (an auto-resolve also asks for the resolve)."""
    payload: Payload
    if isinstance(action, RequesterReminded):
        type_ = EventType.ESCALATION_REMINDER
        payload = escalations.RequesterReminded(
            ticket=ticket,
            level=action.level,
            of=action.of,
            next_step=action.next_step,
            deadline=action.deadline,
        )
    elif isinstance(action, ManagerEscalated):
        type_ = EventType.ESCALATION_MANAGER
        payload = escalations.ManagerEscalated(
            ticket=ticket,
            manager=None if action.to_desk_manager else manager_ref(ticket.requester),
            to_desk_manager=action.to_desk_manager,
            desk_manager_email=action.desk_manager_email,
            unanswered_episodes=action.unanswered_episodes,
        )
    else:
        type_ = EventType.ESCALATION_AUTO_RESOLVE
        payload = escalations.AutoResolved(ticket=ticket, resolution=action.resolution)
    told = _step_event(type_, payload, ticket.id, action.at, correlation_id)
    if not isinstance(action, TicketAutoResolved):
        return [told]
    resolve = ResolveCommand(
        ticket_id=ticket.id, resolution=action.resolution, reason=ResolveReason.NO_RESPONSE.value
    )
    command = _step_event(EventType.COMMAND_RESOLVE, resolve, ticket.id, action.at, correlation_id)
    return [told, command]


def sla_escalated(
    alert: SlaClockEvent, *, breach: bool, desk_manager_email: str, cause: Envelope
) -> Outgoing:
    """An SLA warning or breach for the assignee and the desk manager."""
    fields: dict[str, object] = {
        "ticket": alert.ticket,
        "target": alert.target,
        "kind": "breach" if breach else "warning",
        "due_at": alert.due_at,
        "desk_manager_email": desk_manager_email,
    }
    if alert.fraction is not None:  # a breach carries none, and says nothing of it
        fields["fraction"] = alert.fraction
    payload = escalations.SlaEscalated.model_validate(fields)
    return _caused_event(EventType.ESCALATION_SLA, payload, alert.ticket_id, cause)


def negative_feedback_escalated(
    answer: SurveyAnswered, *, desk_manager_email: str, cause: Envelope
) -> Outgoing:
    """A requester's negative survey answer for the desk manager."""
    payload = escalations.NegativeFeedbackEscalated(
        ticket=answer.ticket,
        rating=answer.rating,
        resolved=answer.resolved,
        comment=answer.comment,
        desk_manager_email=desk_manager_email,
    )
    return _caused_event(EventType.ESCALATION_NEGATIVE_FEEDBACK, payload, answer.ticket.id, cause)
