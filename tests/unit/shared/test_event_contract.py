"""docs/events.md and the contract as code (`stopclock_shared.events.contract`) say the same.

Every event type has a row under its topic's heading, and the fields the row lists are
exactly the fields of its payload model (top level; `name?` is an optional field).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stopclock_shared.events.contract import CONTRACT
from stopclock_shared.events.people import PersonRef
from stopclock_shared.events.tickets import TicketSnapshot
from stopclock_shared.events.types import EventType

DOC = (Path(__file__).parents[3] / "docs" / "events.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| `(stopclock\.[a-z_.]+\.v\d+)` \| (.+) \|$", re.MULTILINE)


def top_level_fields(shape: str) -> set[str]:
    """`{a, b: {c, d}, e?}` -> {"a", "b", "e"}."""
    inner = shape.strip()[1:-1]
    fields, depth, current = [], 0, ""
    for ch in inner:
        depth += (ch in "{[(") - (ch in "}])")
        if ch == "," and depth == 0:
            fields.append(current)
            current = ""
        else:
            current += ch
    fields.append(current)
    return {f.split(":")[0].strip().rstrip("?") for f in fields if f.strip()}


def first_shape(text: str) -> str:
    """The first balanced `{...}` in `text`."""
    start, depth = text.index("{"), 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start : i + 1]
    raise AssertionError(f"unbalanced shape in {text!r}")


def section(heading: str) -> str:
    start = DOC.index(heading)
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end != -1 else len(DOC)]


def rows() -> dict[str, tuple[str, str]]:
    """type -> (its topic heading, its data cell)."""
    found: dict[str, tuple[str, str]] = {}
    for match in ROW.finditer(DOC):
        heading = DOC.rfind("\n## ", 0, match.start())
        topic = DOC[heading + 4 : DOC.index("\n", heading + 1)].split()[0]
        found[match.group(1)] = (topic, match.group(2))
    return found


def test_every_type_has_exactly_one_model_and_one_documented_row() -> None:
    assert set(CONTRACT) == set(EventType)
    assert set(rows()) == {t.value for t in EventType}


@pytest.mark.parametrize("event_type", sorted(EventType))
def test_a_row_sits_under_its_topic_and_lists_its_model_fields(event_type: EventType) -> None:
    topic, cell = rows()[event_type.value]
    entry = CONTRACT[event_type]
    assert topic == entry.topic
    fields = set(entry.model.model_fields)
    if cell.startswith("`{"):
        assert top_level_fields(first_shape(cell)) == fields
    elif cell.startswith("clock event"):
        assert top_level_fields(first_shape(section("## sla.events"))) == fields
    else:
        assert cell.startswith("same"), f"{event_type}: a row gives a shape or says 'same'"
        previous = EventType(_row_before(event_type.value))
        assert CONTRACT[previous].model is entry.model


def _row_before(type_: str) -> str:
    ordered = list(rows())
    return ordered[ordered.index(type_) - 1]


@pytest.mark.parametrize(
    ("heading", "model"),
    [("## Person snapshot", PersonRef), ("## Ticket snapshot", TicketSnapshot)],
)
def test_snapshots_list_their_model_fields(heading: str, model: type[object]) -> None:
    fields = set(model.model_fields)  # type: ignore[attr-defined]
    assert top_level_fields(first_shape(section(heading))) == fields


def test_the_field_parser_reads_nested_shapes() -> None:
    assert top_level_fields("{a, b: {c, d}, e?, f: [PersonRef]}") == {"a", "b", "e", "f"}
