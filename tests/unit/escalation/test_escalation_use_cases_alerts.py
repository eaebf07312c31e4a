"""Escalations told at once, on the fake repository: SLA warnings and breaches, negative
feedback. Each is recorded and sent on naming the desk manager of the ticket's policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from stopclock_escalation.domain.policy import PolicyMatch
from stopclock_escalation.use_cases.alerts import negative_feedback, sla_alert
from stopclock_escalation.use_cases.policies import put_policy
from stopclock_shared.events.sla import SlaClockEvent
from stopclock_shared.events.surveys import SurveyAnswered
from stopclock_shared.events.tickets import TicketSnapshot
from stopclock_shared.events.topics import ESCALATIONS_EVENTS
from stopclock_shared.events.types import EventType

from .escalation_builders import T0, a_policy, a_ticket, an_envelope
from .fakes import unit_of_work

DESK = "desk@example.com"
DUE = datetime(2026, 1, 1, 10, tzinfo=UTC)


def clock_event(ticket: TicketSnapshot, *, fraction: float | None) -> SlaClockEvent:
    return SlaClockEvent(
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        policy="standard",
        policy_version=1,
        target="resolution",
        state="running" if fraction is not None else "breached",
        at=DUE,
        started_at=DUE - timedelta(hours=2),
        due_at=DUE,
        elapsed_seconds=7200,
        fraction=fraction,
        breached_at=None if fraction is not None else DUE,
        ticket=ticket,
    )


async def test_an_sla_warning_is_recorded_and_sent_on_with_its_share_of_time() -> None:
    uow = unit_of_work()
    ticket = a_ticket()
    cause = an_envelope(EventType.SLA_WARNING, ticket.id)
    await sla_alert(
        uow, clock_event(ticket, fraction=0.75), breach=False, cause=cause, desk_manager_email=DESK
    )
    [line] = uow.repo.register
    assert (line.kind, line.level, line.created_at) == ("sla_warning", 1, T0)
    assert line.detail == "resolution target at 75% of its time (due 2026-01-01T10:00:00+00:00)"
    [(topic, key, told)] = uow.emitted
    assert (topic, key, told.type) == (ESCALATIONS_EVENTS, ticket.id, EventType.ESCALATION_SLA)
    assert told.causationid == cause.id
    assert told.data["kind"] == "warning"
    assert told.data["fraction"] == 0.75
    assert told.data["due_at"] == "2026-01-01T10:00:00+00:00"
    assert told.data["desk_manager_email"] == DESK


async def test_an_sla_breach_names_the_desk_manager_of_the_tickets_policy() -> None:
    uow = unit_of_work()
    policy = replace(
        a_policy(), name="vpn", match=PolicyMatch(service="vpn"), desk_manager_email="vpn@x.org"
    )
    await put_policy(uow, policy, T0)
    ticket = a_ticket(service="vpn")
    cause = an_envelope(EventType.SLA_BREACHED, ticket.id)
    await sla_alert(
        uow, clock_event(ticket, fraction=None), breach=True, cause=cause, desk_manager_email=DESK
    )
    [line] = uow.repo.register
    assert (line.kind, line.level) == ("sla_breach", 2)
    assert line.detail == "resolution target breached (due 2026-01-01T10:00:00+00:00)"
    [told] = uow.envelopes(EventType.ESCALATION_SLA)
    assert told.data["kind"] == "breach"
    assert "fraction" not in told.data
    assert told.data["desk_manager_email"] == "vpn@x.org"


async def test_negative_feedback_is_recorded_and_the_desk_manager_told() -> None:
    uow = unit_of_work()
    ticket = a_ticket()
    answer = SurveyAnswered(
        survey_id="s-1", ticket=ticket, rating=1, resolved=False, comment=" Three days. " * 30
    )
    cause = an_envelope(EventType.SURVEY_NEGATIVE, ticket.id)
    await negative_feedback(uow, answer, cause=cause, desk_manager_email=DESK)
    [line] = uow.repo.register
    assert (line.kind, line.level) == ("negative_feedback", 1)
    assert line.detail.startswith("negative feedback; rating 1/5; not resolved: the ticket is")
    assert line.detail.endswith("…")
    [(topic, _, told)] = uow.emitted
    assert (topic, told.type) == (ESCALATIONS_EVENTS, EventType.ESCALATION_NEGATIVE_FEEDBACK)
    assert (told.data["rating"], told.data["resolved"]) == (1, False)
    assert told.data["comment"] == answer.comment
    assert told.data["desk_manager_email"] == DESK
    assert told.data["ticket"]["id"] == ticket.id
