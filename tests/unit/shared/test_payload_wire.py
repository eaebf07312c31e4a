"""The one rule every producer writes an event's `data` by (`payload.wire_values`,
`Payload.wire()`): JSON values, times as `isoformat()`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

from hypothesis import given
from hypothesis import strategies as st

from stopclock_shared.events.payload import wire_values
from stopclock_shared.events.people import PersonRef
from stopclock_shared.events.sla import CalendarUpdated


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC) | st.timezones(),
    )
)
def test_a_time_is_written_as_its_isoformat(at: datetime) -> None:
    assert wire_values({"at": at}) == {"at": at.isoformat()}


def test_utc_takes_an_offset_not_z_and_microseconds_show_only_when_there_are_some() -> None:
    data = wire_values(
        {
            "plain": datetime(2026, 6, 1, 9, tzinfo=UTC),
            "fine": datetime(2026, 6, 1, 9, 0, 0, 500, tzinfo=UTC),
            "paris": datetime(2026, 6, 1, 11, tzinfo=timezone(timedelta(hours=2))),
        }
    )
    assert data == {
        "plain": "2026-06-01T09:00:00+00:00",
        "fine": "2026-06-01T09:00:00.000500+00:00",
        "paris": "2026-06-01T11:00:00+02:00",
    }


class Channel(StrEnum):
    API = "api"


def test_other_values_go_out_as_json_with_nulls_kept() -> None:
    values = {"n": None, "x": 0.75, "list": [1, "a"], "nested": {"when": None}, "ch": Channel.API}
    assert wire_values(values) == {
        "n": None,
        "x": 0.75,
        "list": [1, "a"],
        "nested": {"when": None},
        "ch": "api",
    }


def test_a_payload_is_written_by_the_same_rule_with_only_the_fields_it_was_given() -> None:
    at = datetime(2026, 6, 1, 9, 0, 0, 500, tzinfo=UTC)
    calendar = CalendarUpdated(name="office", spec={"timezone": "UTC"}, updated_at=at)
    assert calendar.wire() == wire_values(calendar.model_dump())
    assert calendar.wire()["updated_at"] == "2026-06-01T09:00:00.000500+00:00"
    person = PersonRef(id="p1", name="Rita", email="rita@example.com", vip=True)
    assert person.wire() == {"id": "p1", "name": "Rita", "email": "rita@example.com", "vip": True}


def test_what_is_written_reads_back_as_the_same_payload() -> None:
    at = datetime(2026, 6, 1, 9, 0, 0, 500, tzinfo=UTC)
    calendar = CalendarUpdated(name="office", spec={"timezone": "UTC"}, updated_at=at)
    person = PersonRef(id="p1", name="Rita", email="rita@example.com", manager_id=None)
    assert CalendarUpdated.model_validate(calendar.wire()) == calendar
    assert PersonRef.model_validate(person.wire()) == person
