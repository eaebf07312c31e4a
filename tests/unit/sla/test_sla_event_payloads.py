"""The `sla.events` envelopes: public types, payload fields, event time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sla_edge_builders import TICKET_ID, snapshot, ticket_of

from stopclock_shared.events.contract import CONTRACT
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
from stopclock_sla.events import calendar_envelope, published_type, sla_envelope, sla_envelopes

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


PUBLISHED = [
    (SlaStarted(**COMMON, state="running", at=T0), EventType.SLA_STARTED),
    (SlaPaused(**COMMON, state="paused", at=T0), EventType.SLA_PAUSED),
    (SlaResumed(**COMMON, state="running", at=T0), EventType.SLA_RESUMED),
    (SlaWarning(**COMMON, state="running", at=T0, fraction=0.5), EventType.SLA_WARNING),
    (SlaBreached(**COMMON, state="breached", at=DUE, breached_at=DUE), EventType.SLA_BREACHED),
    (SlaMet(**COMMON, state="met", at=T0), EventType.SLA_MET),
    (SlaCancelled(**COMMON, state="cancelled", at=T0), EventType.SLA_CANCELLED),
]


@pytest.mark.parametrize(("event", "type_"), PUBLISHED)
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
    assert env.data["ticket"] == ticket.wire()
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


@pytest.mark.parametrize(("event", "type_"), PUBLISHED)
def test_times_go_out_as_every_producer_writes_them_and_round_trip_the_contract_model(
    event: Any, type_: str
) -> None:
    # One shape (issue 14): isoformat() times (`+00:00`), as `Payload.wire()` writes them.
    env = sla_envelope(event, ticket_of(snapshot(3, T0 + timedelta(microseconds=500))))
    assert env is not None
    times = {"at", "started_at", "due_at", "breached_at"} & set(env.data)
    assert all(env.data[name].endswith("+00:00") for name in times)
    assert env.data["ticket"]["created_at"] == "2026-06-01T09:00:00.000500+00:00"
    model = CONTRACT[EventType(type_)].model
    assert model is SlaClockEvent
    assert model.model_validate(env.data).wire() == env.data


@pytest.mark.parametrize(
    ("event", "optional"),
    [
        (SlaStarted(**COMMON, state="running", at=T0), set()),
        (SlaWarning(**COMMON, state="running", at=T0, fraction=0.5), {"fraction"}),
        (SlaBreached(**COMMON, state="breached", at=DUE, breached_at=DUE), {"breached_at"}),
        (SlaMet(**COMMON, state="met", at=T0, breached_at=DUE), {"breached_at"}),
    ],
)
def test_an_optional_member_appears_exactly_when_it_has_a_value(
    event: Any, optional: set[str]
) -> None:
    env = sla_envelope(event, ticket_of(snapshot(3, T0)))
    assert env is not None
    assert {"fraction", "breached_at"} & set(env.data) == optional
    assert None not in [env.data[name] for name in optional]


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC) | st.timezones(),
    )
)
def test_an_event_time_is_written_as_its_isoformat_and_reads_back_the_same_instant(
    at: datetime,
) -> None:
    event = SlaBreached(**COMMON, state="breached", at=at, breached_at=at)
    env = sla_envelope(event, ticket_of(snapshot(3, T0)))
    assert env is not None
    assert env.data["at"] == env.data["breached_at"] == at.isoformat()
    # (in UTC: an aware time in a repeated hour never equals one of another zone)
    assert SlaClockEvent.model_validate(env.data).at == at.astimezone(UTC)


def test_the_tickets_json_is_made_once_for_all_the_events_of_a_change() -> None:
    events = [
        SlaWarning(**COMMON, state="running", at=T0, fraction=0.75),
        SlaRetargeted(**COMMON, state="running", at=T0, previous_policy="p4", previous_version=1),
        SlaBreached(**COMMON, state="breached", at=DUE, breached_at=DUE),
    ]
    ticket = ticket_of(snapshot(3, T0))
    stored = ticket.wire()
    passed = [env.data["ticket"] for _, _, env in sla_envelopes(events, ticket, "t", None, stored)]
    assert passed == [stored, stored]
    assert all(json is stored for json in passed)
    made = [env.data["ticket"] for _, _, env in sla_envelopes(events, ticket, "t")]
    assert made == [stored, stored]
    assert made[0] is made[1]


def test_a_calendar_update_writes_its_time_with_an_offset() -> None:
    env = calendar_envelope("office", {"timezone": "UTC"}, T0)
    assert env.data["updated_at"] == "2026-06-01T09:00:00+00:00"
