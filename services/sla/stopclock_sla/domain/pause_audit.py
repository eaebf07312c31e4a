"""The pause audit: how much of a ticket's resolution time was paused, why, and by whom.

Read from the ticket's *resolution* clock (it spans open -> resolved; adding the first
response clock would count the same time twice) and its pause ledger (`waits.py`), at a
read time `now`, with the clock's own business-time arithmetic, in integer microseconds:

* business: the clock's business time from its start to its stop (or `now`), pauses
  included (= elapsed + paused of the clock's view);
* paused: the business time inside its pauses (= the view's `paused_seconds`);
* by reason: the paused time split by the ledger's status spans, keyed by the waiting
  reason, the pause status, or `resolved` (between a resolution and a reopening); time
  before the first span (tickets saved before the ledger existed) is keyed `unknown`. The
  pieces partition each pause, so their sum is the paused time exactly;
* per wait: the paused business time inside the wait (an open wait counts up to `now`).

`PauseReport` adds tickets up into the body of `GET /api/v1/sla/reports/pauses`.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from stopclock_shared.business_time import (
    US_PER_SECOND,
    Calendar,
    CalendarError,
    business_us_between,
    to_us,
)
from stopclock_sla.domain.clock import Clock
from stopclock_sla.domain.ticket_clocks import TicketClocks
from stopclock_sla.domain.waits import EndedBy, Ledger

UNKNOWN: Final = "unknown"
_Interval = tuple[int, int]


@dataclass(frozen=True, slots=True)
class WaitAudit:
    """One wait as the audit sees it."""

    set_by: str | None
    reason: str | None
    asked: bool
    ended_by: EndedBy | None
    paused_us: int

    @property
    def ended_by_desk(self) -> bool:
        """Ended by an agent (a desk person), not by the requester's answer or automation."""
        return self.ended_by == "desk"


@dataclass(frozen=True, slots=True)
class TicketAudit:
    """The audit figures of one ticket's resolution clock at a read time."""

    business_us: int
    paused_us: int
    by_reason_us: Mapping[str, int]
    waits: tuple[WaitAudit, ...]


def audit_ticket(
    clocks: TicketClocks, calendars: Mapping[str, Calendar], now: datetime
) -> TicketAudit | None:
    """The audit figures of a ticket at `now`; None when it has no resolution clock."""
    clock = clocks.clock("resolution")
    if clock is None:
        return None
    cal = calendars.get(clock.calendar)
    if cal is None:
        raise CalendarError("calendar", f"unknown calendar {clock.calendar!r}")
    return audit_clock(clock, cal, clocks.ledger, now)


def audit_clock(clock: Clock, cal: Calendar, ledger: Ledger, now: datetime) -> TicketAudit:
    """The audit figures of `clock` (a resolution clock, on its calendar `cal`) at `now`."""
    start = to_us(clock.started_at)
    now_us = to_us(now)
    end = now_us if clock.stopped_at is None else min(now_us, to_us(clock.stopped_at))
    pauses = _pauses(clock, start, end)
    business = business_us_between(cal, start, end) if end > start else 0
    by_reason: Counter[str] = Counter()
    spans = [(to_us(s.at), s.key) for s in ledger.spans]
    for lo, hi in pauses:
        for key, a, b in _pieces(lo, hi, spans):
            by_reason[key] += business_us_between(cal, a, b)
    waits = tuple(
        WaitAudit(
            set_by=w.set_by,
            reason=w.reason,
            asked=w.asked,
            ended_by=w.ended_by,
            paused_us=_overlap(
                cal,
                pauses,
                to_us(w.started_at),
                now_us if w.ended_at is None else to_us(w.ended_at),
            ),
        )
        for w in ledger.waits
    )
    return TicketAudit(
        business_us=business,
        paused_us=sum(by_reason.values()),
        by_reason_us={k: v for k, v in sorted(by_reason.items()) if v},
        waits=waits,
    )


def _pauses(clock: Clock, start: int, end: int) -> list[_Interval]:
    """The clock's pauses clipped to [start, end), as the clock measures them."""
    if end <= start:
        return []
    found = []
    for pause_start, pause_end in clock.pauses:
        lo = max(to_us(pause_start), start)
        hi = end if pause_end is None else min(to_us(pause_end), end)
        if hi > lo:
            found.append((lo, hi))
    return found


def _pieces(lo: int, hi: int, spans: list[tuple[int, str]]) -> Iterator[tuple[str, int, int]]:
    """[lo, hi) cut at the span starts, each piece with the key of the span it lies in."""
    key, t = UNKNOWN, lo
    for at, next_key in spans:
        if at >= hi:
            break
        if at > t:
            yield key, t, at
            t = at
        key = next_key
    yield key, t, hi


def _overlap(cal: Calendar, pauses: list[_Interval], lo: int, hi: int) -> int:
    total = 0
    for a, b in pauses:
        a, b = max(a, lo), min(b, hi)
        if b > a:
            total += business_us_between(cal, a, b)
    return total


def gained(before: TicketAudit | None, after: TicketAudit | None) -> tuple[int, dict[str, int]]:
    """What a counter of business and of paused-by-reason microseconds should add going from
    `before` to `after`; decreases (a calendar retarget recounts the past) are dropped."""
    old = before or _NOTHING
    new = after or _NOTHING
    business = max(new.business_us - old.business_us, 0)
    by_reason = {
        key: new.by_reason_us[key] - old.by_reason_us.get(key, 0)
        for key in new.by_reason_us
        if new.by_reason_us[key] > old.by_reason_us.get(key, 0)
    }
    return business, by_reason


_NOTHING: Final = TicketAudit(0, 0, {}, ())


@dataclass(slots=True)
class _AgentFigures:
    pauses: int = 0
    without_question: int = 0
    ended_by_agent: int = 0
    paused_us: list[int] = field(default_factory=list)


@dataclass(slots=True)
class PauseReport:
    """The pause audit over many tickets; `add` each ticket's figures, then `body()`.

    Waits nobody is named for (events from before actors were recorded) count in the
    totals but belong to no agent.
    """

    clocks: int = 0
    business_us: int = 0
    paused_us: int = 0
    by_reason_us: Counter[str] = field(default_factory=Counter)
    agents: dict[str, _AgentFigures] = field(default_factory=dict)

    def add(self, ticket: TicketAudit) -> None:
        self.clocks += 1
        self.business_us += ticket.business_us
        self.paused_us += ticket.paused_us
        self.by_reason_us.update(ticket.by_reason_us)
        for wait in ticket.waits:
            if wait.set_by is None:
                continue
            agent = self.agents.setdefault(wait.set_by, _AgentFigures())
            agent.pauses += 1
            agent.without_question += not wait.asked
            agent.ended_by_agent += wait.ended_by_desk
            agent.paused_us.append(wait.paused_us)

    def body(self) -> dict[str, Any]:
        """`{clocks, business_seconds, paused_seconds, paused_share, by_reason, by_agent}`."""
        return {
            "clocks": self.clocks,
            "business_seconds": self.business_us / US_PER_SECOND,
            "paused_seconds": self.paused_us / US_PER_SECOND,
            "paused_share": self.paused_us / self.business_us if self.business_us else 0.0,
            "by_reason": {k: v / US_PER_SECOND for k, v in sorted(self.by_reason_us.items()) if v},
            "by_agent": [
                {
                    "agent_id": agent_id,
                    "pauses": a.pauses,
                    "without_question": a.without_question,
                    "ended_by_agent": a.ended_by_agent,
                    "median_pause_seconds": statistics.median(a.paused_us) / US_PER_SECOND,
                }
                for agent_id, a in sorted(self.agents.items())
            ],
        }
