"""The escalation service's runtime state (`Runtime.state`), set once the process is ready."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from stopclock_shared.runtime import state_dependency

from .ladder_timers import LadderTimers


@dataclass(frozen=True, slots=True)
class EscalationState:
    """This replica's partition-owned ladder timers."""

    timers: LadderTimers


StateDep = Annotated[EscalationState, Depends(state_dependency(EscalationState))]
