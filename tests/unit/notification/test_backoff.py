"""Retry delays: exponential, capped, fully jittered."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_notification.domain.backoff import backoff_seconds

attempts = st.integers(min_value=1, max_value=10_000)
jitters = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
caps = st.floats(min_value=0.001, max_value=1e6)


@settings(deadline=None)
@given(attempt=attempts, jitter=jitters, cap=caps)
def test_a_delay_never_exceeds_the_cap_nor_goes_negative(
    attempt: int, jitter: float, cap: float
) -> None:
    assert 0.0 <= backoff_seconds(attempt, jitter=jitter, cap=cap) <= cap


@settings(deadline=None)
@given(attempt=attempts, jitter=jitters)
def test_with_the_same_draw_a_later_attempt_never_waits_less(attempt: int, jitter: float) -> None:
    assert backoff_seconds(attempt + 1, jitter=jitter) >= backoff_seconds(attempt, jitter=jitter)


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, 1.0), (2, 2.0), (3, 4.0), (8, 128.0), (9, 150.0), (60, 150.0)],
)
def test_the_ceiling_doubles_per_attempt_up_to_the_cap(attempt: int, expected: float) -> None:
    assert backoff_seconds(attempt, jitter=0.5, base=2.0, cap=300.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("attempt", "jitter"), [(0, 0.5), (1, -0.1), (1, 1.0)], ids=["attempt 0", "negative", "one"]
)
def test_impossible_inputs_are_refused(attempt: int, jitter: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        backoff_seconds(attempt, jitter=jitter)
