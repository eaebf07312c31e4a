"""Domain events of SLA clocks (past tense), one per `stopclock.sla.*.v1` type.

`at` is the event time: the fact's time, or for warnings and breaches the instant the
threshold was reached (not when a timer noticed it). The edge adds the ticket snapshot
and number to build the `sla.events` payload (`stopclock_sla.events`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, TypeAlias

from stopclock_sla.domain.policy import TargetName
from stopclock_sla.domain.states import ClockState


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaEventBase:
    """What every clock event says; `kind` names the event (`started`, `warning`, ...)."""

    kind: ClassVar[str]
    ticket_id: str
    target: TargetName
    policy: str
    policy_version: int
    state: ClockState
    at: datetime
    started_at: datetime
    due_at: datetime
    elapsed_seconds: float
    breached_at: datetime | None = None

    def __init_subclass__(cls, kind: str = "") -> None:
        # No super(): a slotted dataclass is a new class, not the one super() would name.
        if kind:  # (and it is made again without the keyword)
            cls.kind = kind


# A clock started (possibly already paused: see `state`).
class SlaStarted(SlaEventBase, kind="started"): ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaWarning(SlaEventBase, kind="warning"):
    """A clock reached `fraction` of its target."""

    fraction: float


# A clock stopped counting because the ticket entered a pause status.
class SlaPaused(SlaEventBase, kind="paused"): ...


# A clock counts again (the requester answered, or a resolved ticket was reopened).
class SlaResumed(SlaEventBase, kind="resumed"): ...


# A clock reached 100 % of its target; `at` == `breached_at` == `due_at`.
class SlaBreached(SlaEventBase, kind="breached"): ...


# A clock's target was reached in time (first response given, ticket resolved).
class SlaMet(SlaEventBase, kind="met"): ...


# The ticket was cancelled while the clock was running or paused.
class SlaCancelled(SlaEventBase, kind="cancelled"): ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaRetargeted(SlaEventBase, kind="retargeted"):
    """A priority change moved a clock to another policy's target.

    There is no `stopclock.sla.retargeted` type in the public contract: the edge uses it
    to reschedule timers, and does not publish it.
    """

    previous_policy: str
    previous_version: int


SlaEvent: TypeAlias = (
    SlaStarted
    | SlaPaused
    | SlaResumed
    | SlaWarning
    | SlaBreached
    | SlaMet
    | SlaCancelled
    | SlaRetargeted
)
