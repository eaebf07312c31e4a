"""The events the service emits keep the JSON they always had on the wire."""

from __future__ import annotations

from datetime import UTC, datetime

from stopclock_shared.events.escalations import AutoResolved
from stopclock_shared.events.tickets import TicketSnapshot

from .escalation_builders import a_ticket


def test_datetimes_go_out_with_an_offset_as_they_always_did() -> None:
    payload = AutoResolved(ticket=a_ticket(), resolution="Resolved.")
    data = payload.wire()
    assert data["ticket"]["created_at"] == "2025-03-03T09:00:00+00:00"


def test_a_forwarded_snapshot_keeps_its_fields_and_leaves_out_those_it_did_not_carry() -> None:
    # As the ticket service writes it: isoformat() times, a field this version does not know.
    raw = a_ticket().model_dump(mode="json", exclude={"assignee", "waiting_since"})
    raw["created_at"] = datetime(2026, 1, 1, 9, tzinfo=UTC).isoformat()
    raw["updated_at"] = datetime(2026, 1, 1, 10, 0, 0, 500, tzinfo=UTC).isoformat()
    raw["vendor_field"] = "kept"
    data = AutoResolved(ticket=TicketSnapshot.model_validate(raw), resolution="x").wire()
    assert data["ticket"] == raw
