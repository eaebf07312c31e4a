"""The consumer routes every event type the survey service needs to a typed handler."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from stopclock_shared.events.sla import SlaClockEvent
from stopclock_shared.events.tickets import TicketStatusChanged
from stopclock_shared.events.types import EventType
from stopclock_shared.runtime import Runtime
from stopclock_survey.consumers import routes
from stopclock_survey.settings import SurveySettings


def test_ticket_changes_and_breaches_are_routed_to_handlers_of_their_models() -> None:
    found = routes(cast(Runtime, SimpleNamespace(outbox=None)), SurveySettings())
    assert found.types == {
        EventType.TICKET_CREATED,
        EventType.TICKET_UPDATED,
        EventType.TICKET_COMMENTED,
        EventType.TICKET_STATUS_CHANGED,
        EventType.SLA_BREACHED,
    }
    status = found.get(EventType.TICKET_STATUS_CHANGED)
    breach = found.get(EventType.SLA_BREACHED)
    assert status is not None
    assert breach is not None
    assert (status.model, breach.model) == (TicketStatusChanged, SlaClockEvent)
