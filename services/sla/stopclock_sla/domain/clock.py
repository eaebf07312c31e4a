"""SLA clocks: one per ticket and target, a pure function of event times.

A `Clock` records only facts: when it started, its pause intervals, when it stopped,
which warnings were sent and when it breached. Everything else (`due_at`, elapsed,
paused and remaining time, the next timer) is computed from those facts, a calendar and
a read time `now`, so replaying the same events gives the same clocks, whenever they
are processed.

Semantics (decisions the service and its readers rely on):

* Elapsed time is business time on the target's calendar from `started_at` to `now`
  (or to `stopped_at`), minus the business time inside pauses.
* `due_at` is the instant elapsed time reaches the target. While paused, it is the
  deadline *if the requester answered at the read time*: the open pause is taken to end
  at `now`, so a paused clock's `due_at` moves forward as time passes. A breached
  clock's `due_at` is its `breached_at`.
* The deadline instant itself is breached (breach at 100 %): an event at exactly
  `due_at` finds the clock breached.
* `remaining_seconds` never goes below 0; overdue time shows as `elapsed_seconds`
  beyond the target (`overdue_seconds`). A breached clock keeps counting until it is
  satisfied (first response given, ticket resolved) or the ticket is cancelled/closed,
  and it stays `breached`.
* Warnings and breaches carry the instant the threshold was reached as their event
  time, not the time a timer fired: `fire` catches up on everything due by `now`.
* Reopening a resolved ticket resumes the resolution clock where it stopped: the time
  between resolution and reopening becomes a pause, so it is not counted.
"""

from __future__ import annotations

import sys
from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, NamedTuple, TypeAlias, TypeVar

from stopclock_shared.business_time import (
    US_PER_SECOND,
    Calendar,
    add_business_us,
    business_us_between,
    from_us,
    to_us,
)
from stopclock_sla.domain import events as ev
from stopclock_sla.domain.policy import (
    DEFAULT_PAUSE_STATUSES,
    DEFAULT_WARN_AT,
    SlaPolicy,
    Target,
    TargetName,
)
from stopclock_sla.domain.states import ClockState

Pause: TypeAlias = tuple[datetime, datetime | None]
"""A pause interval: (start, end), end None while the clock is paused."""

Events: TypeAlias = tuple[ev.SlaEvent, ...]


class Timer(NamedTuple):
    """The next instant a running clock needs attention."""

    kind: Literal["warning", "breach"]
    fraction: float | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Clock:
    """One SLA clock (see the module docstring). Build with `new_clock`."""

    ticket_id: str
    target: TargetName
    policy: str
    policy_version: int
    seconds: float
    calendar: str
    started_at: datetime
    pause_statuses: tuple[str, ...] = DEFAULT_PAUSE_STATUSES
    pause_reasons: tuple[str, ...] | None = None
    warn_at: tuple[float, ...] = DEFAULT_WARN_AT
    pauses: tuple[Pause, ...] = ()
    stopped_at: datetime | None = None
    state: ClockState = "running"
    warnings_sent: tuple[float, ...] = ()
    breached_at: datetime | None = None

    @property
    def is_paused(self) -> bool:
        """True while a pause is open."""
        return bool(self.pauses) and self.pauses[-1][1] is None

    @property
    def is_stopped(self) -> bool:
        """True once met, cancelled, or satisfied after a breach."""
        return self.stopped_at is not None

    @property
    def is_breached(self) -> bool:
        """True once the target was exceeded (for good)."""
        return self.breached_at is not None

    def pauses_on(self, status: str, reason: str | None) -> bool:
        """Whether a ticket in `status` (waiting `reason`) pauses this clock."""
        rule = Target(self.seconds, self.calendar, self.pause_reasons)
        return rule.pauses_on(self.pause_statuses, status, reason)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for a JSONB column)."""
        return {
            "ticket_id": self.ticket_id,
            "target": self.target,
            "policy": self.policy,
            "policy_version": self.policy_version,
            "seconds": self.seconds,
            "calendar": self.calendar,
            "started_at": self.started_at.isoformat(),
            "pause_statuses": list(self.pause_statuses),
            "pause_reasons": None if self.pause_reasons is None else list(self.pause_reasons),
            "warn_at": list(self.warn_at),
            "pauses": [
                [s.isoformat(), None if e is None else e.isoformat()] for s, e in self.pauses
            ],
            "stopped_at": _iso(self.stopped_at),
            "state": self.state,
            "warnings_sent": list(self.warnings_sent),
            "breached_at": _iso(self.breached_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Clock:
        """Inverse of `to_dict`; shares equal strings and tuples to keep 100k clocks small."""
        reasons = data["pause_reasons"]
        return cls(
            ticket_id=data["ticket_id"],
            target=data["target"],
            policy=sys.intern(data["policy"]),
            policy_version=data["policy_version"],
            seconds=float(data["seconds"]),
            calendar=sys.intern(data["calendar"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            pause_statuses=_shared(tuple(data["pause_statuses"])),
            pause_reasons=None if reasons is None else _shared(tuple(reasons)),
            warn_at=_shared(tuple(float(f) for f in data["warn_at"])),
            pauses=tuple(
                (datetime.fromisoformat(s), None if e is None else datetime.fromisoformat(e))
                for s, e in data["pauses"]
            ),
            stopped_at=_from_iso(data["stopped_at"]),
            state=data["state"],
            warnings_sent=tuple(float(f) for f in data["warnings_sent"]),
            breached_at=_from_iso(data["breached_at"]),
        )


@dataclass(frozen=True, slots=True)
class ClockView:
    """A clock as the read API shows it at some instant."""

    target: TargetName
    state: ClockState
    started_at: datetime
    due_at: datetime
    elapsed_seconds: float
    paused_seconds: float
    remaining_seconds: float
    breached_at: datetime | None
    warnings: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """The API item `{target, state, started_at, due_at, elapsed_seconds, ...}`."""
        return {
            "target": self.target,
            "state": self.state,
            "started_at": self.started_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "elapsed_seconds": self.elapsed_seconds,
            "paused_seconds": self.paused_seconds,
            "remaining_seconds": self.remaining_seconds,
            "breached_at": _iso(self.breached_at),
            "warnings": list(self.warnings),
        }


# --- reading -------------------------------------------------------------------------


def new_clock(ticket_id: str, policy: SlaPolicy, target: TargetName, started_at: datetime) -> Clock:
    """A running clock for one of `policy`'s targets (KeyError if the policy lacks it)."""
    terms = _terms(policy, policy.targets[target])
    return Clock(ticket_id=ticket_id, target=target, started_at=started_at, **terms)


def _terms(policy: SlaPolicy, rule: Target) -> dict[str, Any]:
    """What a clock takes from its policy and target (`new_clock`, `retarget`)."""
    return {
        "policy": policy.name,
        "policy_version": policy.version,
        "seconds": rule.seconds,
        "calendar": rule.calendar,
        "pause_statuses": policy.pause_statuses,
        "pause_reasons": rule.pause_reasons,
        "warn_at": policy.warn_at,
    }


def due_at(clock: Clock, cal: Calendar, now: datetime) -> datetime:
    """When elapsed time reaches the target (while paused: if resumed at `now`)."""
    if clock.breached_at is not None:
        return clock.breached_at
    return from_us(_reach(clock, cal, _target_us(clock), to_us(now)))


def elapsed_seconds(clock: Clock, cal: Calendar, now: datetime) -> float:
    """Business seconds counted by `now` (pauses excluded; beyond the target if overdue)."""
    return _measure(clock, cal, to_us(now))[0] / US_PER_SECOND


def paused_seconds(clock: Clock, cal: Calendar, now: datetime) -> float:
    """Business seconds spent inside pauses by `now`, on the clock's calendar."""
    return _measure(clock, cal, to_us(now))[1] / US_PER_SECOND


def remaining_seconds(clock: Clock, cal: Calendar, now: datetime) -> float:
    """Business seconds left before the deadline at `now`; 0 once overdue."""
    left = _target_us(clock) - _measure(clock, cal, to_us(now))[0]
    return max(left, 0) / US_PER_SECOND


def overdue_seconds(clock: Clock, cal: Calendar, now: datetime) -> float:
    """Business seconds counted beyond the target at `now`; 0 when not overdue."""
    over = _measure(clock, cal, to_us(now))[0] - _target_us(clock)
    return max(over, 0) / US_PER_SECOND


def view(clock: Clock, cal: Calendar, now: datetime) -> ClockView:
    """The read-API form of a clock at `now`."""
    now_us = to_us(now)
    elapsed, paused = _measure(clock, cal, now_us)
    return ClockView(
        target=clock.target,
        state=clock.state,
        started_at=clock.started_at,
        due_at=due_at(clock, cal, now),
        elapsed_seconds=elapsed / US_PER_SECOND,
        paused_seconds=paused / US_PER_SECOND,
        remaining_seconds=max(_target_us(clock) - elapsed, 0) / US_PER_SECOND,
        breached_at=clock.breached_at,
        warnings=clock.warnings_sent,
    )


# --- timers --------------------------------------------------------------------------


def next_timer(clock: Clock, cal: Calendar) -> Timer | None:
    """The next warning not yet sent, else the breach; None unless the clock is running.

    Paused, stopped (met, cancelled) and breached clocks have no timer.
    """
    if clock.is_stopped or clock.is_breached or clock.is_paused:
        return None
    # A running clock has no open pause, so `now` does not matter to `_reach`.
    start_us = to_us(clock.started_at)
    pending = _pending_warnings(clock)
    if pending:
        at_us = _reach(clock, cal, _fraction_us(clock, pending[0]), start_us)
        return Timer("warning", pending[0], from_us(at_us))
    return Timer("breach", None, from_us(_reach(clock, cal, _target_us(clock), start_us)))


def fire(clock: Clock, cal: Calendar, now: datetime) -> tuple[Clock, Events]:
    """Record every warning and the breach due by `now`, each at its own due instant.

    Idempotent, and the result does not depend on how late the timer fired.
    """
    if clock.is_stopped or clock.is_breached:
        return clock, ()
    now_us = to_us(now)
    events: list[ev.SlaEvent] = []
    for fraction in _pending_warnings(clock):
        at_us = _reach(clock, cal, _fraction_us(clock, fraction), now_us)
        if at_us > now_us:
            break
        clock = replace(clock, warnings_sent=(*clock.warnings_sent, fraction))
        events.append(_event(ev.SlaWarning, clock, cal, from_us(at_us), fraction=fraction))
    due_us = _reach(clock, cal, _target_us(clock), now_us)
    if due_us <= now_us:
        breached = from_us(due_us)
        clock = replace(clock, breached_at=breached, state="breached")
        events.append(_event(ev.SlaBreached, clock, cal, breached))
    return clock, tuple(events)


# --- transitions (the caller has fired timers up to `at` first) -----------------------


def start(clock: Clock, cal: Calendar) -> Events:
    """The event announcing a new clock."""
    return (_event(ev.SlaStarted, clock, cal, clock.started_at),)


def pause(clock: Clock, cal: Calendar, at: datetime) -> tuple[Clock, Events]:
    """Stop counting from `at` (no-op if already paused or stopped)."""
    if clock.is_stopped or clock.is_paused:
        return clock, ()
    state: ClockState = "breached" if clock.is_breached else "paused"
    clock = replace(clock, pauses=(*clock.pauses, (at, None)), state=state)
    return clock, (_event(ev.SlaPaused, clock, cal, at),)


def resume(clock: Clock, cal: Calendar, at: datetime) -> tuple[Clock, Events]:
    """Count again from `at`: the deadline moves by the business time paused."""
    if clock.is_stopped or not clock.is_paused:
        return clock, ()
    state: ClockState = "breached" if clock.is_breached else "running"
    clock = replace(clock, pauses=_closed(clock.pauses, at), state=state)
    return clock, (_event(ev.SlaResumed, clock, cal, at),)


def satisfy(clock: Clock, cal: Calendar, at: datetime) -> tuple[Clock, Events]:
    """The target was achieved at `at`: met, or stays breached and stops counting."""
    return _stop(clock, cal, at, "met", ev.SlaMet)


def cancel(clock: Clock, cal: Calendar, at: datetime) -> tuple[Clock, Events]:
    """The ticket was cancelled: stop; a breached clock stays breached (no event)."""
    return _stop(clock, cal, at, "cancelled", ev.SlaCancelled)


def _stop(
    clock: Clock,
    cal: Calendar,
    at: datetime,
    state: ClockState,
    kind: type[ev.SlaMet | ev.SlaCancelled],
) -> tuple[Clock, Events]:
    if clock.is_stopped:
        return clock, ()
    if clock.is_breached:
        state = "breached"
    clock = replace(clock, pauses=_closed(clock.pauses, at), stopped_at=at, state=state)
    return clock, (() if clock.is_breached else (_event(kind, clock, cal, at),))


def reopen(clock: Clock, cal: Calendar, at: datetime) -> tuple[Clock, Events]:
    """Resume a clock stopped by resolution; the stopped span becomes a pause."""
    if clock.stopped_at is None or clock.state == "cancelled":
        return clock, ()
    pauses = clock.pauses
    if at > clock.stopped_at:
        pauses = (*pauses, (clock.stopped_at, at))
    state: ClockState = "breached" if clock.is_breached else "running"
    clock = replace(clock, pauses=pauses, stopped_at=None, state=state)
    return clock, (_event(ev.SlaResumed, clock, cal, at),)


def retarget(clock: Clock, cal: Calendar, policy: SlaPolicy, at: datetime) -> tuple[Clock, Events]:
    """Move a running or paused clock to `policy`'s target of the same name.

    `started_at` and the pauses are kept, so the elapsed business time is recomputed
    on the new calendar from the original start. Stopped and breached clocks, and
    clocks whose target the new policy lacks, are left as they are.
    """
    rule = policy.targets.get(clock.target)
    if rule is None or clock.is_stopped or clock.is_breached:
        return clock, ()
    previous = clock
    clock = replace(clock, **_terms(policy, rule))
    event = _event(
        ev.SlaRetargeted,
        clock,
        cal,
        at,
        previous_policy=previous.policy,
        previous_version=previous.policy_version,
    )
    return clock, (event,)


# --- arithmetic ----------------------------------------------------------------------


def _target_us(clock: Clock) -> int:
    return round(clock.seconds * US_PER_SECOND)


def _fraction_us(clock: Clock, fraction: float) -> int:
    return round(clock.seconds * fraction * US_PER_SECOND)


def _pending_warnings(clock: Clock) -> list[float]:
    last = max(clock.warnings_sent, default=0.0)
    return [f for f in clock.warn_at if f > last]


def _reach(clock: Clock, cal: Calendar, amount: int, now_us: int) -> int:
    """The instant `amount` business microseconds have been counted; an open pause ends at now.

    A stop is ignored on purpose: the deadline of a met clock is still its deadline.
    """
    t = to_us(clock.started_at)
    for pause_start, pause_end in clock.pauses:
        start_us = to_us(pause_start)
        if start_us > t:
            counted = business_us_between(cal, t, start_us)
            if counted >= amount:
                return add_business_us(cal, t, amount)
            amount -= counted
        end_us = max(now_us, start_us) if pause_end is None else to_us(pause_end)
        t = max(t, end_us)
    return add_business_us(cal, t, amount)


def _measure(clock: Clock, cal: Calendar, now_us: int) -> tuple[int, int]:
    """(elapsed, paused) business microseconds counted by `now_us`."""
    start_us = to_us(clock.started_at)
    end_us = now_us if clock.stopped_at is None else min(now_us, to_us(clock.stopped_at))
    if end_us <= start_us:
        return 0, 0
    paused = 0
    for pause_start, pause_end in clock.pauses:
        lo = max(to_us(pause_start), start_us)
        hi = end_us if pause_end is None else min(to_us(pause_end), end_us)
        if hi > lo:
            paused += business_us_between(cal, lo, hi)
    return business_us_between(cal, start_us, end_us) - paused, paused


def _closed(pauses: tuple[Pause, ...], at: datetime) -> tuple[Pause, ...]:
    if pauses and pauses[-1][1] is None:
        return (*pauses[:-1], (pauses[-1][0], at))
    return pauses


_E = TypeVar("_E", bound=ev.SlaEventBase)


def _event(kind: type[_E], clock: Clock, cal: Calendar, at: datetime, **extra: Any) -> _E:
    told = {name: getattr(clock, name) for name in _TOLD}
    due, elapsed = due_at(clock, cal, at), elapsed_seconds(clock, cal, at)
    return kind(**told, at=at, due_at=due, elapsed_seconds=elapsed, **extra)


# What an event tells of its clock as it is.
_TOLD = ("ticket_id", "target", "policy", "policy_version", "state", "started_at", "breached_at")


_H = TypeVar("_H", bound=Hashable)
_SHARED: dict[Any, Any] = {}


def _shared(value: _H) -> _H:
    """One instance per distinct small tuple (pause rules, warn_at) across all clocks."""
    found: _H = _SHARED.setdefault(value, value)
    return found


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _from_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
