"""The sla service's runtime state (`Runtime.state`), set once the process is ready."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from stopclock_shared.runtime import state_dependency

from .timers import SlaTimers
from .version_cache import VersionCache


@dataclass(frozen=True, slots=True)
class SlaState:
    """Parsed policy and calendar versions, and this replica's partition-owned timers."""

    cache: VersionCache
    timers: SlaTimers


StateDep = Annotated[SlaState, Depends(state_dependency(SlaState))]
