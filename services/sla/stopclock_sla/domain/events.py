"""Domain events of SLA clocks (past tense), one per `stopclock.sla.*.v1` type.

`at` is the event time: the fact's time, or for warnings and breaches the instant the
threshold was reached (not when a timer noticed it). The edge adds the ticket snapshot
and number to build the `sla.events` payload from `to_data()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeAlias

from stopclock_sla.domain.policy import TargetName
from stopclock_sla.domain.states import ClockState


@dataclass(frozen=True, slots=True, kw_only=True)
class _SlaEventBase:
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

    def to_data(self) -> dict[str, Any]:
        """JSON-friendly payload (events.md `sla.events` shape, without the ticket)."""
        data: dict[str, Any] = {
            "ticket_id": self.ticket_id,
            "policy": self.policy,
            "policy_version": self.policy_version,
            "target": self.target,
            "state": self.state,
            "at": self.at.isoformat(),
            "started_at": self.started_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "elapsed_seconds": self.elapsed_seconds,
        }
        if self.breached_at is not None:
            data["breached_at"] = self.breached_at.isoformat()
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaStarted(_SlaEventBase):
    """A clock started (possibly already paused: see `state`)."""

    kind: ClassVar[str] = "started"


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaPaused(_SlaEventBase):
    """A clock stopped counting because the ticket entered a pause status."""

    kind: ClassVar[str] = "paused"


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaResumed(_SlaEventBase):
    """A clock counts again (the requester answered, or a resolved ticket was reopened)."""

    kind: ClassVar[str] = "resumed"


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaWarning(_SlaEventBase):
    """A clock reached `fraction` of its target."""

    kind: ClassVar[str] = "warning"
    fraction: float

    def to_data(self) -> dict[str, Any]:
        """Payload with the `fraction`."""
        return {**_SlaEventBase.to_data(self), "fraction": self.fraction}


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaBreached(_SlaEventBase):
    """A clock reached 100 % of its target; `at` == `breached_at` == `due_at`."""

    kind: ClassVar[str] = "breached"


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaMet(_SlaEventBase):
    """A clock's target was reached in time (first response given, ticket resolved)."""

    kind: ClassVar[str] = "met"


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaCancelled(_SlaEventBase):
    """The ticket was cancelled while the clock was running or paused."""

    kind: ClassVar[str] = "cancelled"


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaRetargeted(_SlaEventBase):
    """A priority change moved a clock to another policy's target.

    There is no `stopclock.sla.retargeted` type in the public contract: the edge may
    publish it under a new type or just use it to reschedule timers.
    """

    kind: ClassVar[str] = "retargeted"
    previous_policy: str
    previous_version: int

    def to_data(self) -> dict[str, Any]:
        """Payload with the previous policy."""
        return {
            **_SlaEventBase.to_data(self),
            "previous_policy": self.previous_policy,
            "previous_version": self.previous_version,
        }


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
