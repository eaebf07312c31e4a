import pytest

from stopclock_ticket.domain import (
    Impact,
    Priority,
    PriorityChanged,
    Urgency,
    open_ticket,
    priority_for,
    recompute_priority,
)

H, M, L = Impact.HIGH, Impact.MEDIUM, Impact.LOW
UH, UM, UL = Urgency.HIGH, Urgency.MEDIUM, Urgency.LOW


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        (H, UH, Priority.P1),
        (H, UM, Priority.P2),
        (M, UH, Priority.P2),
        (H, UL, Priority.P3),
        (M, UM, Priority.P3),
        (L, UH, Priority.P3),
        (M, UL, Priority.P4),
        (L, UM, Priority.P4),
        (L, UL, Priority.P4),
    ],
)
def test_itil_matrix_gives_the_priority(
    impact: Impact, urgency: Urgency, expected: Priority
) -> None:
    assert priority_for(impact, urgency) == expected


def test_matrix_accepts_the_api_strings() -> None:
    assert priority_for(Impact("high"), Urgency("medium")) == Priority.P2
    assert priority_for("low", "high") == Priority.P3  # type: ignore[arg-type]


def test_a_new_ticket_starts_new_with_its_matrix_priority() -> None:
    state = open_ticket("req-1", H, UH)
    assert (state.status, state.priority, state.version) == ("new", Priority.P1, 1)


def test_raising_urgency_reports_the_priority_change() -> None:
    state, event = recompute_priority(open_ticket("req-1", H, UL), urgency=UH)
    assert state.priority == Priority.P1
    assert (state.impact, state.urgency) == (H, UH)
    assert event == PriorityChanged(from_priority=Priority.P3, to_priority=Priority.P1)


def test_lowering_impact_reports_the_priority_change() -> None:
    state, event = recompute_priority(open_ticket("req-1", H, UH), impact=L)
    assert state.priority == Priority.P3
    assert event == PriorityChanged(from_priority=Priority.P1, to_priority=Priority.P3)


def test_changing_impact_and_urgency_without_moving_priority_reports_nothing() -> None:
    # high/low and low/high are both P3.
    state, event = recompute_priority(open_ticket("req-1", H, UL), impact=L, urgency=UH)
    assert (state.impact, state.urgency, state.priority) == (L, UH, Priority.P3)
    assert event is None


def test_recompute_without_changes_keeps_the_state() -> None:
    before = open_ticket("req-1", M, UM)
    after, event = recompute_priority(before)
    assert after == before
    assert event is None
