"""HTTP models of the escalation API (contract: API.md, "Escalation service")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from stopclock_shared.validation import EmailAddress, StrictBool

# Ten years: beyond that a reminder is a typo, not a policy.
MAX_SECONDS = 10 * 366 * 86_400


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MatchIn(_In):
    type: Literal["incident", "service_request"] | None = None
    priority: Literal["P1", "P2", "P3", "P4"] | None = None
    service: str | None = Field(default=None, max_length=200)


class ManagerRuleIn(_In):
    requires_work_blocked: StrictBool = True
    min_unresponsive_episodes: int = Field(default=2, ge=1, le=1000)
    window_days: int = Field(default=90, ge=1, le=3660)


class PolicyIn(_In):
    """The body of ``PUT /escalation/policies/{name}``; semantic checks give 422 problems."""

    match: MatchIn = Field(default_factory=MatchIn)
    order: int = Field(default=100, ge=-(2**31), le=2**31 - 1)
    reminders: list[int] = Field(
        max_length=20,
        description="Seconds after waiting starts (counted on `calendar`), increasing",
    )
    final_grace_seconds: int = Field(le=MAX_SECONDS)
    calendar: str = Field(default="24x7", min_length=1, max_length=200)
    manager_escalation: ManagerRuleIn = Field(default_factory=ManagerRuleIn)
    desk_manager_email: EmailAddress | None = Field(
        default=None, description="Default: STOPCLOCK_DESK_MANAGER_EMAIL"
    )


class MatchRead(BaseModel):
    type: str | None
    priority: str | None
    service: str | None


class ManagerRuleRead(BaseModel):
    requires_work_blocked: bool
    min_unresponsive_episodes: int
    window_days: int


class PolicyRead(BaseModel):
    name: str
    match: MatchRead
    order: int
    reminders: list[int]
    final_grace_seconds: int
    calendar: str
    manager_escalation: ManagerRuleRead
    desk_manager_email: str
    builtin: bool = Field(
        description="The fallback when no stored policy matches (PUT .../default replaces it)"
    )
    updated_at: datetime | None


class EscalationRead(BaseModel):
    id: uuid.UUID
    ticket_id: uuid.UUID
    kind: str = Field(
        description="reminder, manager_escalation, auto_resolve, sla_warning, sla_breach "
        "or negative_feedback"
    )
    level: int = Field(
        description="Reminder n: n; the final step of a ladder of N reminders: N + 1; "
        "sla_warning 1, sla_breach 2, negative_feedback 1"
    )
    created_at: datetime
    detail: str


class ResponsivenessRead(BaseModel):
    """Episodes that started in the last ``window_days``;
    ``waiting_episodes == answered + unanswered_episodes + open + away_unanswered``."""

    person_id: str
    waiting_episodes: int
    answered: int
    unanswered_episodes: int = Field(
        description="Ended without an answer (manager escalation or auto-resolve), away "
        "episodes excepted: what the manager rule counts"
    )
    away_episodes: int = Field(
        description="Episodes in which the requester's automatic away reply arrived, whatever "
        "their outcome; never counted towards the manager rule"
    )
    median_response_seconds: float | None = Field(
        description="Median wall-clock time to answer, over answered episodes that were not away"
    )
    frequently_unresponsive: bool
    open: int = Field(description="Episodes still waiting for an answer")
    withdrawn: int = Field(description="Episodes the desk ended itself; not held against anyone")
    away_unanswered: int = Field(
        description="Away episodes that ended without an answer (resolved for lack of "
        "response, never escalated to a manager); not held against anyone"
    )
    window_days: int


class TimersRead(BaseModel):
    partitions: list[int] = Field(description="tickets.events partitions this replica owns")
    scheduled: int = Field(description="Timers held in memory by this replica")
