"""The `sla.events` envelopes: public types, payload fields, event time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sla_edge_builders import TICKET_ID, snapshot, ticket_of

from stopclock_shared.events.sla import SlaClockEvent
from stopclock_shared.events.types import EventType
from stopclock_sla.domain import (
    SlaBreached,
    SlaCancelled,
    SlaMet,
    SlaPaused,
    SlaResumed,
    SlaRetargeted,
    SlaStarted,
    SlaWarning,
)
from stopclock_sla.events import calendar_envelope, published_type, sla_envelope

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
DUE = T0 + timedelta(hours=4)
COMMON: dict[str, Any] = {
    "ticket_id": TICKET_ID,
    "target": "resolution",
    "policy": "p3",
    "policy_version": 2,
    "started_at": T0,
    "due_at": DUE,
    "elapsed_seconds": 7200.0,
}


@pytest.mark.parametrize(
    ("event", "type_"),
    [
        (SlaStarted(**COMMON, state="running", at=T0), EventType.SLA_STARTED),
        (SlaPaused(**COMMON, state="paused", at=T0), EventType.SLA_PAUSED),
        (SlaResumed(**COMMON, state="running", at=T0), EventType.SLA_RESUMED),
        (SlaWarning(**COMMON, state="running", at=T0, fraction=0.5), EventType.SLA_WARNING),
        (SlaBreached(**COMMON, state="breached", at=DUE, breached_at=DUE), EventType.SLA_BREACHED),
        (SlaMet(**COMMON, state="met", at=T0), EventType.SLA_MET),
        (SlaCancelled(**COMMON, state="cancelled", at=T0), EventType.SLA_CANCELLED),
    ],
)
def test_every_clock_event_has_its_public_type(event: object, type_: str) -> None:
    assert published_type(event) == type_  # type: ignore[arg-type]


def test_a_retargeting_is_not_published() -> None:
    event = SlaRetargeted(
        **COMMON, state="running", at=T0, previous_policy="p4", previous_version=1
    )
    assert published_type(event) is None
    assert sla_envelope(event, ticket_of(snapshot(3, T0))) is None


def test_a_breach_envelope_carries_the_ticket_and_happens_at_the_deadline() -> None:
    event = SlaBreached(**COMMON, state="breached", at=DUE, breached_at=DUE)
    ticket = ticket_of(snapshot(3, T0))
    env = sla_envelope(event, ticket)
    assert env is not None
    assert (env.type, env.subject, env.time, env.source) == (
        EventType.SLA_BREACHED,
        TICKET_ID,
        DUE,
        "stopclock/sla",
    )
    assert env.data["ticket_number"] == "INC0000042"
    assert env.data["ticket"] == ticket.model_dump(mode="json")
    assert datetime.fromisoformat(env.data["breached_at"]) == DUE
    assert env.data["breached_at"] == env.data["due_at"]
    expected = {"ticket_id", "ticket_number", "policy", "target", "state", "due_at", "started_at"}
    assert expected | {"elapsed_seconds", "breached_at", "ticket"} <= set(env.data)


def test_a_warning_envelope_says_which_fraction() -> None:
    event = SlaWarning(**COMMON, state="running", at=T0, fraction=0.75)
    env = sla_envelope(event, ticket_of(snapshot(3, T0)))
    assert env is not None
    assert env.data["fraction"] == 0.75
    assert "breached_at" not in env.data


def test_a_caused_event_keeps_the_correlation_of_the_ticket_event() -> None:
    cause = sla_envelope(SlaMet(**COMMON, state="met", at=T0), ticket_of(snapshot(3, T0)))
    assert cause is not None
    env = sla_envelope(SlaMet(**COMMON, state="met", at=T0), ticket_of(snapshot(3, T0)), cause)
    assert env is not None
    assert (env.causationid, env.correlationid) == (cause.id, cause.correlationid)


def test_a_calendar_update_has_exactly_name_spec_and_updated_at() -> None:
    spec = {"timezone": "Europe/Paris", "week": {"mon": [["09:00", "18:00"]]}, "holidays": {}}
    env = calendar_envelope("office", spec, T0)
    assert env.type == "stopclock.sla.calendar_updated.v1"
    assert env.subject == "office"
    assert set(env.data) == {"name", "spec", "updated_at"}
    assert (env.data["name"], env.data["spec"]) == ("office", spec)
    assert datetime.fromisoformat(env.data["updated_at"]) == T0


def test_optional_members_are_absent_unless_they_have_a_value() -> None:
    env = sla_envelope(SlaStarted(**COMMON, state="running", at=T0), ticket_of(snapshot(3, T0)))
    assert env is not None
    assert not {"fraction", "breached_at"} & set(env.data)
    assert SlaClockEvent.model_validate(env.data).ticket.number == "INC0000042"
