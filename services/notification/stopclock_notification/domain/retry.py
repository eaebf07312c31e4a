"""What becomes of a mail after a failed delivery attempt."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from stopclock_notification.domain.backoff import backoff_seconds

DEFAULT_CAP_SECONDS = 300.0
UNREACHABLE_RETRY_CAP_SECONDS = 5.0


class Failure(StrEnum):
    """Why an attempt failed; it decides whether the attempt counts towards giving up."""

    # No SMTP conversation (refused, reset, timed out): the world is down, not the mail.
    # Like the consumer's transient errors, this is retried and never ends in `dead`, so an
    # SMTP outage of any length loses no mail; its retries are capped short (the sender's
    # circuit breaker, not each mail's backoff, spares the server), so mail flows again
    # within seconds of the server's return, however long it was away.
    UNREACHABLE = "unreachable"
    # The server answered with an error code (recipient refused, message rejected, 4xx/5xx).
    REJECTED = "rejected"
    # The mail cannot be written (a template bug): retrying cannot help.
    UNRENDERABLE = "unrenderable"


@dataclass(frozen=True)
class AfterFailure:
    """The row's next state: `failed` with a retry time, or `dead` (given up)."""

    status: Literal["failed", "dead"]
    attempts: int
    next_attempt_at: datetime


def after_failure(
    attempts_before: int,
    failure: Failure,
    *,
    now: datetime,
    jitter: float,
    max_attempts: int,
    unreachable_cap: float = UNREACHABLE_RETRY_CAP_SECONDS,
) -> AfterFailure:
    """The state after one more failed attempt of a mail already tried `attempts_before` times.

    A rejected mail is given up after `max_attempts` attempts; an unrenderable one at once;
    an unreachable server never makes a mail dead, and its retries wait at most
    `unreachable_cap` seconds. `jitter` in [0, 1) is drawn by the caller.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    attempts = attempts_before + 1
    give_up = failure is Failure.UNRENDERABLE or (
        failure is Failure.REJECTED and attempts >= max_attempts
    )
    if give_up:
        return AfterFailure(status="dead", attempts=attempts, next_attempt_at=now)
    cap = unreachable_cap if failure is Failure.UNREACHABLE else DEFAULT_CAP_SECONDS
    delay = backoff_seconds(attempts, jitter=jitter, cap=cap)
    return AfterFailure(
        status="failed", attempts=attempts, next_attempt_at=now + timedelta(seconds=delay)
    )
