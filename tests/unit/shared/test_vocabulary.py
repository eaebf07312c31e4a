"""The contract's words: one declaration (events/vocabulary.toml), the generated module and doc
current with it, and open words that take a value added by a newer producer."""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from devstack import vocabulary as generator
from stopclock_shared.events import vocabulary
from stopclock_shared.events.contract import CONTRACT
from stopclock_shared.events.outages import OutageData
from stopclock_shared.events.tickets import TicketSnapshot
from stopclock_shared.testing.events import ticket_created

WORDS = generator.load()
ENUMS = {name: word for name, word in WORDS.items() if name != "constants"}


def test_the_generated_module_and_doc_are_current() -> None:
    assert generator.main(["--check"]) == 0


def test_a_changed_declaration_would_change_what_is_written() -> None:
    changed = {**WORDS, "Level": {**WORDS["Level"], "values": {"HIGH": "high", "LOW": "low"}}}
    assert generator.module_text(changed) != generator.module_text(WORDS)
    assert generator.doc_text(changed) != generator.doc_text(WORDS)


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_each_enum_has_the_declared_values_in_order(name: str) -> None:
    declared = ENUMS[name]["values"]
    members = getattr(vocabulary, name)
    assert issubclass(members, enum.StrEnum)
    assert [(m.name, m.value) for m in members] == list(declared.items())


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_every_value_and_its_meaning_is_in_the_doc(name: str) -> None:
    doc = generator.doc_text(WORDS)
    notes = ENUMS[name].get("docs", {})
    for member, value in ENUMS[name]["values"].items():
        assert f"| `{value}` | {notes.get(member, '')} |" in doc


def test_named_sets_and_constants_are_the_declared_ones() -> None:
    assert vocabulary.OPEN_STATUSES == {"new", "assigned", "in_progress", "waiting_on_user"}
    assert vocabulary.STAFF == {"agent", "manager", "admin", "service"}
    assert vocabulary.REQUESTER_ANSWERED == "requester_answered"
    assert vocabulary.SURVEY_NOT_RESOLVED == "survey_not_resolved"


def _snapshot(**changes: Any) -> dict[str, Any]:
    data = ticket_created(email="ada@example.com").data
    return {**data["ticket"], **changes}


def test_known_words_of_a_snapshot_decode_to_their_members() -> None:
    ticket = TicketSnapshot.model_validate(
        _snapshot(status="waiting_on_user", waiting_reason="info_requested", priority="P1")
    )
    assert ticket.status is vocabulary.Status.WAITING_ON_USER
    assert ticket.waiting_reason is vocabulary.WaitingReason.INFO_REQUESTED
    assert ticket.priority is vocabulary.Priority.P1
    assert ticket.type is vocabulary.TicketType.INCIDENT


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "on_hold"),
        ("waiting_reason", "approval_requested"),
        ("priority", "P5"),
        ("impact", "extensive"),
        ("urgency", "critical"),
    ],
)
def test_an_open_word_added_by_a_newer_producer_is_kept_as_its_string(
    field: str, value: str
) -> None:
    ticket = TicketSnapshot.model_validate(_snapshot(**{field: value}))
    assert getattr(ticket, field) == value
    assert not isinstance(getattr(ticket, field), enum.Enum)
    assert ticket.wire()[field] == value


def test_an_outage_takes_a_new_status_and_a_known_impact() -> None:
    outage = OutageData.model_validate(
        {
            "id": "o-1",
            "service": "vpn",
            "title": "VPN down",
            "description": "No tunnel comes up.",
            "impact": "high",
            "status": "monitoring",
            "created_at": "2026-12-03T10:00:00+00:00",
        }
    )
    assert outage.impact is vocabulary.Level.HIGH
    assert outage.status == "monitoring"


def test_a_closed_word_refuses_a_value_it_does_not_know() -> None:
    # The ticket type is closed: a new type is a new event version (docs/vocabulary.md).
    with pytest.raises(ValueError, match="type"):
        TicketSnapshot.model_validate(_snapshot(type="change"))


def _words_in(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[tuple[str, bool]]:
    """(enum name, taken open) for every field of ``model`` and its nested models."""
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        yield from _words_of(field.annotation, seen)


def _words_of(hint: object, seen: set[type[BaseModel]]) -> Iterator[tuple[str, bool]]:
    args = typing.get_args(hint)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        yield hint.__name__, False
    elif isinstance(hint, type) and issubclass(hint, BaseModel):
        yield from _words_in(hint, seen)
    for arg in args:
        if isinstance(arg, type) and issubclass(arg, enum.Enum):
            yield arg.__name__, str in args
        else:
            yield from _words_of(arg, seen)


def test_the_payloads_take_open_exactly_the_words_declared_open() -> None:
    seen: set[type[BaseModel]] = set()
    used = {pair for entry in CONTRACT.values() for pair in _words_in(entry.model, seen)}
    taken_open = {name for name, is_open in used if is_open}
    assert taken_open == {name for name, word in ENUMS.items() if word.get("open")}
    assert not taken_open & {name for name, is_open in used if not is_open}
