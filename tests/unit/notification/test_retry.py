"""After a failed attempt: retry later, or give up, depending on why it failed."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_notification.domain.retry import Failure, after_failure

NOW = datetime(2024, 5, 14, 9, 0, tzinfo=UTC)
MAX = 8


@pytest.mark.parametrize(
    ("attempts_before", "failure", "status"),
    [
        (0, Failure.REJECTED, "failed"),
        (6, Failure.REJECTED, "failed"),
        (7, Failure.REJECTED, "dead"),
        (20, Failure.REJECTED, "dead"),
        (0, Failure.UNRENDERABLE, "dead"),
        (0, Failure.UNREACHABLE, "failed"),
        (7, Failure.UNREACHABLE, "failed"),
        (500, Failure.UNREACHABLE, "failed"),
    ],
)
def test_a_mail_is_given_up_only_when_rejected_too_often_or_unwritable(
    attempts_before: int, failure: Failure, status: str
) -> None:
    outcome = after_failure(attempts_before, failure, now=NOW, jitter=0.5, max_attempts=MAX)
    assert outcome.status == status
    assert outcome.attempts == attempts_before + 1


def test_a_dead_mail_is_not_scheduled_again() -> None:
    outcome = after_failure(7, Failure.REJECTED, now=NOW, jitter=0.9, max_attempts=MAX)
    assert outcome.next_attempt_at == NOW


def test_the_retry_waits_the_jittered_backoff_of_the_attempt() -> None:
    outcome = after_failure(2, Failure.REJECTED, now=NOW, jitter=0.5, max_attempts=MAX)
    # third attempt failed: ceiling 2 * 2**2 = 8 s, half of it with jitter 0.5
    assert outcome.next_attempt_at == NOW + timedelta(seconds=4)


def test_a_single_allowed_attempt_makes_the_first_rejection_final() -> None:
    outcome = after_failure(0, Failure.REJECTED, now=NOW, jitter=0.0, max_attempts=1)
    assert outcome.status == "dead"


def test_max_attempts_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        after_failure(0, Failure.REJECTED, now=NOW, jitter=0.0, max_attempts=0)


@settings(deadline=None)
@given(
    attempts_before=st.integers(min_value=0, max_value=10_000),
    jitter=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    offset=st.integers(min_value=0, max_value=10**9),
)
def test_an_unreachable_server_never_kills_a_mail_and_the_retry_comes_within_seconds(
    attempts_before: int, jitter: float, offset: int
) -> None:
    now = NOW + timedelta(seconds=offset)
    outcome = after_failure(
        attempts_before, Failure.UNREACHABLE, now=now, jitter=jitter, max_attempts=MAX
    )
    assert outcome.status == "failed"
    assert now <= outcome.next_attempt_at <= now + timedelta(seconds=5)


@settings(deadline=None)
@given(
    attempts_before=st.integers(min_value=0, max_value=6),
    jitter=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_a_rejected_mail_waits_at_most_five_minutes(attempts_before: int, jitter: float) -> None:
    outcome = after_failure(
        attempts_before, Failure.REJECTED, now=NOW, jitter=jitter, max_attempts=MAX
    )
    assert NOW <= outcome.next_attempt_at <= NOW + timedelta(seconds=300)


def test_a_rejected_mail_backs_off_longer_than_one_waiting_for_the_server() -> None:
    rejected = after_failure(6, Failure.REJECTED, now=NOW, jitter=0.5, max_attempts=MAX)
    unreachable = after_failure(6, Failure.UNREACHABLE, now=NOW, jitter=0.5, max_attempts=MAX)
    assert rejected.next_attempt_at == NOW + timedelta(seconds=64)
    assert unreachable.next_attempt_at == NOW + timedelta(seconds=2.5)
