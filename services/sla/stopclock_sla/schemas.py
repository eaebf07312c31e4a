"""HTTP models of the SLA API (contract: API.md, "SLA service").

Input models check shapes and types; the domain checks meaning (known statuses and
calendars, fractions in (0, 1), positive seconds) and reports every field at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from stopclock_shared.validation import Int32, TimeZoneName

from .domain.policy import MAX_TARGET_SECONDS

ClockStateName = Literal["running", "paused", "met", "breached", "cancelled"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MatchIn(_In):
    type: Literal["incident", "service_request"] | None = Field(default=None, examples=["incident"])
    priority: Literal["P1", "P2", "P3", "P4"] | None = Field(default=None, examples=["P1"])
    service: str | None = Field(default=None, max_length=200, examples=["vpn"])


class TargetIn(_In):
    seconds: float = Field(
        gt=0,
        le=MAX_TARGET_SECONDS,
        examples=[14400],
        description="Business seconds on the calendar (at most ten years)",
    )
    calendar: str = Field(min_length=1, max_length=100, examples=["24x7"])
    pause_reasons: list[str] | None = Field(
        default=None,
        description="Which waiting_on_user reasons pause this target (default: all of them)",
        examples=[["info_requested", "user_response"]],
    )


class TargetsIn(_In):
    first_response: TargetIn | None = None
    resolution: TargetIn


class PolicyIn(_In):
    match: MatchIn = MatchIn()
    order: Int32 = Field(default=0, description="Among matching policies the lowest order wins")
    pause_statuses: list[str] = Field(default=["waiting_on_user"])
    warn_at: list[float] = Field(default=[0.5, 0.75, 0.9])
    targets: TargetsIn


class _Sparse(BaseModel):
    """Shown without the optional fields that are not set (as they were given)."""

    @model_serializer(mode="wrap")
    def _drop_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        shown: dict[str, Any] = handler(self)
        return {k: v for k, v in shown.items() if v is not None}


class MatchRead(_Sparse):
    type: str | None = None
    priority: str | None = None
    service: str | None = None


class TargetRead(_Sparse):
    seconds: float
    calendar: str
    pause_reasons: list[str] | None = Field(
        default=None, description="Absent: every waiting_on_user reason pauses this target"
    )


class TargetsRead(_Sparse):
    first_response: TargetRead | None = None
    resolution: TargetRead


class PolicyRead(BaseModel):
    name: str
    version: int
    match: MatchRead
    order: int
    pause_statuses: list[str] = Field(description="Ticket statuses that stop the clocks")
    warn_at: list[float]
    targets: TargetsRead
    updated_at: datetime


class HolidaysIn(_In):
    country: str | None = Field(default=None, examples=["FR"])
    subdiv: str | None = None
    dates: list[str] = Field(default=[], examples=[["2026-12-24"]])


class CalendarIn(_In):
    timezone: TimeZoneName = Field(examples=["Europe/Paris"])
    week: dict[str, list[list[str]]] = Field(
        examples=[{"mon": [["08:00", "12:00"], ["13:00", "18:00"]]}]
    )
    holidays: HolidaysIn | None = None


class CalendarRead(BaseModel):
    name: str
    version: int
    timezone: str
    week: dict[str, list[list[str]]]
    holidays: dict[str, object]
    builtin: bool
    updated_at: datetime


class ClockRead(BaseModel):
    target: Literal["first_response", "resolution"]
    state: ClockStateName
    started_at: datetime
    due_at: datetime
    elapsed_seconds: float = Field(description="Business seconds counted, pauses left out")
    paused_seconds: float = Field(description="Business seconds spent paused")
    remaining_seconds: float = Field(description="Business seconds left before the breach")
    breached_at: datetime | None
    warnings: list[float] = Field(description="Warning fractions already sent")


class TicketClocksRead(BaseModel):
    ticket_id: str
    policy: str | None
    policy_version: int | None
    clocks: list[ClockRead]


class AgentPausesRead(BaseModel):
    agent_id: str = Field(description="Who set the waits (the actor of the transition)")
    pauses: int = Field(description="Waits set (entries into waiting_on_user)")
    without_question: int = Field(
        description="Waits set with no note on the transition and no public comment by "
        "someone other than the requester since the ticket's previous status change"
    )
    ended_by_agent: int = Field(
        description="Waits ended by a desk person (agent, manager, admin), not by the "
        "requester's answer or by automation"
    )
    median_pause_seconds: float = Field(
        description="Median over these waits of the resolution clock's paused business "
        "seconds during each (an open wait counts up to now)"
    )


class PauseReportRead(BaseModel):
    clocks: int = Field(description="Resolution clocks started in [from, to)")
    business_seconds: float = Field(
        description="Their business time from start to stop (or now), pauses included"
    )
    paused_seconds: float = Field(description="The business time inside their pauses")
    paused_share: float = Field(description="paused_seconds / business_seconds (0 when 0)")
    by_reason: dict[str, float] = Field(
        description="paused_seconds by waiting reason, else by pause status; `resolved` is "
        "the time between a resolution and a reopening",
        examples=[{"info_requested": 5400.0, "user_response": 1800.0}],
    )
    by_agent: list[AgentPausesRead] = Field(description="Sorted by agent_id")
