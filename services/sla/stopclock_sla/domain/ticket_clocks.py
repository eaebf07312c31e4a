"""All SLA clocks of one ticket, driven by ticket facts.

Rules (see also `clock.py`):

* `start_clocks` starts one clock per target of the matched policy at ticket creation
  (none if no policy matches), then applies the ticket's initial status.
* A status change pauses a clock when the status is one of the policy's
  `pause_statuses` and, for `waiting_on_user`, the target's `pause_reasons` (if any)
  list the reason; any other open status resumes it.
* `first_response` is met by either fact, whichever comes first: the ticket moves to
  `in_progress`, or someone other than the requester posts a public comment
  (`CommentAdded`). Resolving or closing a ticket also satisfies it if nothing did.
* `resolved` (and `closed`) meets every clock still counting; a breached clock stays
  breached and stops counting. Reopening (`resolved` -> an open status) resumes the
  resolution clock where it stopped. `cancelled` cancels the clocks still counting.
* A priority change carries the newly matched policy. If it is another policy (by
  name), counting clocks take its targets, calendars, pause rule and warnings while
  keeping `started_at` and their pauses; a clock that is then overdue breaches at its
  computed due time. Targets the ticket had no clock for start at the change
  (`first_response` only if nobody responded yet). Same policy name (even a newer
  version): nothing changes, the ticket keeps the version it started with.
* The pause ledger (`waits.py`: status spans and waits, for the pause audit) follows the
  same facts at the same clamped times; it never changes the clocks.
* Idempotence: facts carry the ticket `sequence`. A fact older than the last applied
  sequence, or of a kind already applied at that sequence, is a no-op. (Kinds are
  tracked per sequence because one ticket version may produce several events, e.g. a
  requester's comment and the status change it causes.)
* A fact's time never goes backwards: it is clamped to the latest fact time seen and to
  the latest warning or breach already recorded. Before a fact is applied, every timer due
  by its time is fired.
* Event time, not arrival, decides (docs/sla-timing.md): `fire(calendars, until)` records
  only what is due by `until`, and the edge passes the partition's event-time mark (every
  fact up to it applied). So the clocks and the events do not depend on when the timer
  fired or whether it came before a fact: they are those of the facts applied in event-time
  order. A fact that arrives after a decision later than its own time (lag beyond the
  grace) is applied at that decision's time: a recorded breach is never undone, and the
  clock never contradicts it (no pause before its own breach).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from stopclock_shared.business_time import Calendar, CalendarError
from stopclock_shared.events.vocabulary import OPEN_STATUSES
from stopclock_sla.domain import clock as clk
from stopclock_sla.domain.clock import Clock, Events, Timer
from stopclock_sla.domain.events import SlaEvent
from stopclock_sla.domain.facts import (
    CommentAdded,
    Fact,
    PriorityChanged,
    StatusChanged,
    TicketFacts,
)
from stopclock_sla.domain.policy import SlaPolicy, TargetName
from stopclock_sla.domain.waits import Ledger

_SERIAL_VERSION: Final = 1
# Fields saved as they are (to_dict) and read back as they are (from_dict).
_STORED_AS_IS = (
    "ticket_id",
    "policy",
    "policy_version",
    "status",
    "waiting_reason",
    "responded",
    "sequence",
)

Calendars = Mapping[str, Calendar]
_Step = Callable[[Clock, Calendar, datetime], tuple[Clock, Events]]


@dataclass(frozen=True, slots=True)
class TicketClocks:
    """The SLA state of one ticket. Build with `start_clocks`, change with `apply`/`fire`."""

    ticket_id: str
    policy: str | None
    policy_version: int | None
    status: str
    waiting_reason: str | None
    responded: bool
    sequence: int
    applied: tuple[str, ...]
    last_at: datetime
    clocks: tuple[Clock, ...] = ()
    ledger: Ledger = field(default_factory=Ledger)

    def clock(self, target: TargetName) -> Clock | None:
        """The clock of a target, if the ticket has one."""
        return next((c for c in self.clocks if c.target == target), None)

    def apply(self, fact: Fact, calendars: Calendars) -> tuple[TicketClocks, Events]:
        """Apply a ticket fact; returns the new state and the events it caused."""
        if self._applied(fact):
            return self, ()
        at = max(fact.at, self.last_at)
        state, events = self.fire(calendars, at)
        applied = (*self.applied, fact.kind) if fact.sequence == self.sequence else (fact.kind,)
        state = replace(state, sequence=fact.sequence, applied=applied, last_at=at)
        if isinstance(fact, StatusChanged):
            state, more = state._status(fact.to_status, fact.reason, at, calendars)
            ledger = state.ledger.entered(
                at,
                fact.to_status,
                state.waiting_reason,
                actor_id=fact.actor_id,
                by_requester=fact.by_requester,
                by_desk=fact.by_desk,
                with_note=fact.with_note,
            )
        elif isinstance(fact, CommentAdded):
            state, more = state._comment(fact, at, calendars)
            ledger = state.ledger.commented(at, public=fact.public, by_requester=fact.by_requester)
        else:
            state, more = state._priority(fact, at, calendars)
            ledger = state.ledger.at(at)
        return replace(state, ledger=ledger), events + more

    def fire(self, calendars: Calendars, until: datetime) -> tuple[TicketClocks, Events]:
        """Record the warnings and breaches due by `until` (event time = their due time).

        `until` is an event time: the caller passes one up to which every fact is applied.
        A decision is final, so later facts never go back before it (`last_at`).
        """
        clocks, events = _each(self.clocks, calendars, lambda c, cal: clk.fire(c, cal, until))
        if not events:
            return self, ()
        ordered = tuple(sorted(events, key=lambda e: e.at))
        last_at = max(self.last_at, ordered[-1].at)
        return replace(self, clocks=clocks, last_at=last_at), ordered

    def is_late(self, fact: Fact) -> bool:
        """True when `fact` would be applied later than its own time (after a decision or a
        fact of a later time); a redelivered fact is not late, it is ignored."""
        return not self._applied(fact) and fact.at < self.last_at

    def _applied(self, fact: Fact) -> bool:
        return fact.sequence < self.sequence or (
            fact.sequence == self.sequence and fact.kind in self.applied
        )

    def next_timer(self, calendars: Calendars) -> tuple[TargetName, Timer] | None:
        """The earliest timer over all clocks, with its target; None when nothing runs."""
        timers = [
            (c.target, t)
            for c in self.clocks
            if (t := clk.next_timer(c, _calendar(calendars, c.calendar))) is not None
        ]
        return min(timers, key=lambda item: item[1].at, default=None)

    def view(self, calendars: Calendars, now: datetime) -> dict[str, Any]:
        """The read API body `{ticket_id, policy, policy_version, clocks: [...]}` at `now`."""
        return {
            "ticket_id": self.ticket_id,
            "policy": self.policy,
            "policy_version": self.policy_version,
            "clocks": [
                clk.view(c, _calendar(calendars, c.calendar), now).to_dict() for c in self.clocks
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form for a JSONB column."""
        return {
            "v": _SERIAL_VERSION,
            "ticket_id": self.ticket_id,
            "policy": self.policy,
            "policy_version": self.policy_version,
            "status": self.status,
            "waiting_reason": self.waiting_reason,
            "responded": self.responded,
            "sequence": self.sequence,
            "applied": list(self.applied),
            "last_at": self.last_at.isoformat(),
            "clocks": [c.to_dict() for c in self.clocks],
            "ledger": self.ledger.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TicketClocks:
        """Inverse of `to_dict`."""
        if data.get("v") != _SERIAL_VERSION:
            raise ValueError(f"unsupported ticket clocks format {data.get('v')!r}")
        stored_as_is = {name: data[name] for name in _STORED_AS_IS}
        return cls(
            **stored_as_is,
            applied=tuple(data["applied"]),
            last_at=datetime.fromisoformat(data["last_at"]),
            clocks=tuple(Clock.from_dict(c) for c in data["clocks"]),
            # Additive key: rows saved before the pause audit load with an empty ledger.
            ledger=Ledger.from_dict(data.get("ledger")),
        )

    # --- fact handlers ---------------------------------------------------------------

    def _status(
        self, to: str, reason: str | None, at: datetime, calendars: Calendars
    ) -> tuple[TicketClocks, Events]:
        clocks = self.clocks
        events: Events = ()

        def run(change: _Step, only: TargetName | None = None) -> None:
            nonlocal clocks, events
            clocks, more = _each(
                clocks,
                calendars,
                lambda c, cal: change(c, cal, at) if only in (None, c.target) else (c, ()),
            )
            events += more

        reason = reason if to == "waiting_on_user" else None
        if self.status == "resolved" and to in OPEN_STATUSES:
            run(clk.reopen, "resolution")
        if to in ("resolved", "closed"):
            run(clk.satisfy)
        elif to == "cancelled":
            run(clk.cancel)
        else:
            if to == "in_progress":
                run(clk.satisfy, "first_response")
            run(_follow_pause_rule(to, reason))
        responded = self.responded or to in ("in_progress", "resolved", "closed")
        state = replace(self, status=to, waiting_reason=reason, responded=responded)
        return replace(state, clocks=clocks), events

    def _comment(
        self, fact: CommentAdded, at: datetime, calendars: Calendars
    ) -> tuple[TicketClocks, Events]:
        if not fact.public or fact.by_requester:
            return self, ()
        clocks, events = _each(
            self.clocks,
            calendars,
            lambda c, cal: clk.satisfy(c, cal, at) if c.target == "first_response" else (c, ()),
        )
        return replace(self, clocks=clocks, responded=True), events

    def _priority(
        self, fact: PriorityChanged, at: datetime, calendars: Calendars
    ) -> tuple[TicketClocks, Events]:
        policy = fact.policy
        if policy is None or policy.name == self.policy or self.status not in OPEN_STATUSES:
            return self, ()
        events: list[SlaEvent] = []
        clocks: list[Clock] = []
        for c in self.clocks:
            rule = policy.targets.get(c.target)
            if rule is not None:
                c, more = clk.retarget(c, _calendar(calendars, rule.calendar), policy, at)
                events += more
            clocks.append(c)
        present = {c.target for c in clocks}
        for name in policy.targets:
            if name in present or (name == "first_response" and self.responded):
                continue
            fresh = clk.new_clock(self.ticket_id, policy, name, at)
            events += clk.start(fresh, _calendar(calendars, fresh.calendar))
            clocks.append(fresh)
        state = replace(
            self, policy=policy.name, policy_version=policy.version, clocks=tuple(clocks)
        )
        follow = _follow_pause_rule(self.status, self.waiting_reason)
        follow_clocks, more_events = _each(
            state.clocks, calendars, lambda c, cal: follow(c, cal, at)
        )
        state, fired = replace(state, clocks=follow_clocks).fire(calendars, at)
        return state, (*events, *more_events, *fired)


def start_clocks(
    policy: SlaPolicy | None, calendars: Calendars, ticket: TicketFacts, at: datetime
) -> tuple[TicketClocks, Events]:
    """The SLA state of a new ticket: one running clock per target of `policy`.

    `policy` is what `match_policy` returned for the ticket (None: no clocks, but the
    ticket is still tracked so a later priority change can match one).
    """
    clocks: tuple[Clock, ...] = ()
    events: Events = ()
    if policy is not None:
        clocks = tuple(clk.new_clock(ticket.ticket_id, policy, name, at) for name in policy.targets)
        for c in clocks:
            events += clk.start(c, _calendar(calendars, c.calendar))
    state = TicketClocks(
        ticket_id=ticket.ticket_id,
        policy=None if policy is None else policy.name,
        policy_version=None if policy is None else policy.version,
        status="new",
        waiting_reason=None,
        responded=False,
        sequence=ticket.sequence,
        applied=("created",),
        last_at=at,
        clocks=clocks,
    )
    state, more = state._status(ticket.status, ticket.waiting_reason, at, calendars)
    ledger = state.ledger.entered(at, state.status, state.waiting_reason, is_change=False)
    return replace(state, ledger=ledger), events + more


def _follow_pause_rule(status: str, reason: str | None) -> _Step:
    def follow(c: Clock, cal: Calendar, at: datetime) -> tuple[Clock, Events]:
        if c.pauses_on(status, reason):
            return clk.pause(c, cal, at)
        return clk.resume(c, cal, at)

    return follow


def _each(
    clocks: tuple[Clock, ...],
    calendars: Calendars,
    step: Callable[[Clock, Calendar], tuple[Clock, Events]],
) -> tuple[tuple[Clock, ...], Events]:
    new_clocks: list[Clock] = []
    events: list[SlaEvent] = []
    for c in clocks:
        c, more = step(c, _calendar(calendars, c.calendar))
        new_clocks.append(c)
        events += more
    return tuple(new_clocks), tuple(events)


def _calendar(calendars: Calendars, name: str) -> Calendar:
    try:
        return calendars[name]
    except KeyError:
        raise CalendarError("calendar", f"unknown calendar {name!r}") from None
