"""The states a clock reports (the `state` of the SLA read API and events)."""

from typing import Final, Literal, TypeAlias, get_args

ClockState: TypeAlias = Literal["running", "paused", "met", "breached", "cancelled"]
CLOCK_STATES: Final[tuple[ClockState, ...]] = get_args(ClockState)
