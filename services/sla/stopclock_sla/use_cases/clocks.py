"""Use cases on tickets' clocks: apply a ticket event, fire what is due, read the clocks.

Changes of clocks return a `Saved` saying what to do once committed (reschedule the
ticket's timer, count the events); the audit counters are counted after commit here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from stopclock_shared.auth import Principal
from stopclock_shared.business_time import Calendar
from stopclock_shared.errors import Forbidden, NotFound
from stopclock_shared.events import tickets as wire
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.topics import SLA_EVENTS
from stopclock_shared.unit_of_work import UnitOfWork
from stopclock_sla.domain import (
    Fact,
    SlaEvent,
    SlaPolicy,
    TicketAudit,
    TicketClocks,
    audit_ticket,
    gained,
    start_clocks,
)

from .. import metrics
from ..events import sla_envelopes
from ..facts_from_events import (
    adopted_facts,
    comment_fact,
    created_facts,
    priority_fact,
    status_fact,
)
from ..repository import ClocksValues, Outgoing, SlaRepository, StoredClocks, TimerRow
from ..timer_notes import TimerNote
from ..version_cache import VersionCache

log = logging.getLogger(__name__)
Uow = UnitOfWork[SlaRepository]
Horizon = Callable[[int], datetime | None]
"""Partition -> the event time up to which timers may be decided (None: not here)."""
TicketEvent = (
    wire.TicketCreated
    | wire.TicketUpdated
    | wire.TicketStatusChanged
    | wire.TicketCommented
    | wire.TicketPriorityChanged
)
"""The `tickets.events` payloads that move clocks."""


@dataclass(frozen=True, slots=True)
class AuditGain:
    """What one applied fact adds to the pause audit counters (metrics.count_audit)."""

    waits: tuple[tuple[str, bool], ...]  # (reason, question asked) of each wait it set
    business_us: int
    paused_us: Mapping[str, int]  # by reason


@dataclass(frozen=True, slots=True)
class Saved:
    """A ticket's clocks after a committed change: its next timer and what happened."""

    ticket_id: str
    partition: int
    next_due: datetime | None
    events: tuple[SlaEvent, ...]
    priority: str
    late: bool = False  # a fact applied later than its own time (TicketClocks.is_late)
    audit: AuditGain | None = None


# --- ticket events --------------------------------------------------------------------------


async def apply_ticket_event(
    uow: Uow,
    cache: VersionCache,
    envelope: Envelope,
    event: TicketEvent,
    partition: int,
    now: datetime,
    *,
    topic: str = SLA_EVENTS,
) -> Saved:
    """Apply one ticket event to the ticket's clocks and write the SLA events it caused.

    The SLA events and the ticket's timer note are written in one statement; the pause
    audit counters move once committed.
    """
    repo = uow.repo
    ticket = event.ticket
    ticket_id = uuid.UUID(ticket.id)
    row = await repo.get_clocks(ticket_id, for_update=True)
    events: tuple[SlaEvent, ...] = ()
    if row is None:
        agg, events = await _start(repo, cache, envelope, event)
    else:
        agg = TicketClocks.from_dict(row.aggregate)
    fact = (
        None if isinstance(event, wire.TicketCreated) else await _fact(repo, cache, envelope, event)
    )
    late = fact is not None and agg.is_late(fact)
    if late:
        log.warning(
            "ticket %s: fact of %s arrived after the clocks had decided until %s",
            ticket.id,
            envelope.time.isoformat(),
            agg.last_at.isoformat(),
        )
    before: tuple[TicketClocks, Mapping[str, Calendar]] | None = None
    if fact is not None:
        cals = await cache.calendars(repo, _calendar_keys(agg, fact))
        before = None if row is None else (agg, cals)
        agg, more = agg.apply(fact, cals)
        events += more
    snapshot, stored = _latest_snapshot(row, ticket)
    cals = await cache.calendars(repo, _calendar_keys(agg))
    next_due = _next_due(agg, cals)
    resolution = agg.clock("resolution")
    values: ClocksValues = {
        "partition": partition,
        "aggregate": agg.to_dict(),
        "ticket": stored,
        "clock_states": [c.state for c in agg.clocks],
        "next_due": next_due,
        "resolution_started_at": None if resolution is None else resolution.started_at,
        "updated_at": now,
    }
    if row is None:
        await repo.insert_clocks(ticket_id, values, now)
    else:
        await repo.update_clocks(ticket_id, values)
    moved = row is None or row.next_due != next_due or row.partition != partition
    notes = [TimerNote(ticket.id, partition, next_due).encode()] if moved else []
    items = sla_envelopes(events, snapshot, topic, envelope, stored) if events else []
    await repo.add_events(items, notes)
    audit = _audit_gain(before, agg, cals) if fact is not None or row is None else None
    if audit is not None:
        uow.after_commit(
            lambda: metrics.count_audit(audit.waits, audit.business_us, audit.paused_us)
        )
    return Saved(ticket.id, partition, next_due, events, snapshot.priority, late, audit)


def _audit_gain(
    before: tuple[TicketClocks, Mapping[str, Calendar]] | None,
    after: TicketClocks,
    cals: Mapping[str, Calendar],
) -> AuditGain | None:
    """The audit figures the ticket gained with a fact (None: nothing counted yet).

    Each state is read at its own last fact time, so the counters add up to the ticket's
    figures at its last fact, whenever it is processed (a redelivery gains nothing).
    Metrics only: a failure is logged and never fails the event.
    """
    try:
        old: TicketAudit | None = None
        if before is not None:
            agg, old_cals = before
            old = audit_ticket(agg, old_cals, agg.ledger.fact_at or agg.last_at)
        new = audit_ticket(after, cals, after.ledger.fact_at or after.last_at)
        business, paused = gained(old, new)
    except Exception:
        log.exception("ticket %s: cannot compute its pause audit figures", after.ticket_id)
        return None
    known = 0 if before is None else len(before[0].ledger.waits)
    waits = tuple((w.reason or "unknown", w.asked) for w in after.ledger.waits[known:])
    if not waits and not business and not paused:
        return None
    return AuditGain(waits, business, paused)


async def _start(
    repo: SlaRepository, cache: VersionCache, envelope: Envelope, event: TicketEvent
) -> tuple[TicketClocks, tuple[SlaEvent, ...]]:
    ticket = event.ticket
    policy = await cache.match(repo, ticket.type, ticket.priority, ticket.service)
    if isinstance(event, wire.TicketCreated):
        facts, at = created_facts(envelope, ticket), envelope.time
    else:
        facts, at = adopted_facts(ticket), ticket.created_at
        log.warning("ticket %s seen without its created event; adopting it", ticket.id)
    keys = () if policy is None else (t.calendar for t in policy.targets.values())
    return start_clocks(policy, await cache.calendars(repo, keys), facts, at)


async def _fact(
    repo: SlaRepository, cache: VersionCache, envelope: Envelope, event: TicketEvent
) -> Fact | None:
    if isinstance(event, wire.TicketStatusChanged):
        return status_fact(envelope, event)
    if isinstance(event, wire.TicketCommented):
        return comment_fact(envelope, event)
    if isinstance(event, wire.TicketPriorityChanged):
        t = event.ticket
        policy = await cache.match(repo, t.type, event.to_priority, t.service)
        return priority_fact(envelope, t, event.to_priority, policy)
    return None


def _latest_snapshot(
    row: StoredClocks | None, ticket: wire.TicketSnapshot
) -> tuple[wire.TicketSnapshot, dict[str, Any]]:
    """The newer of the stored snapshot and the event's, as a model and as stored (events
    of a ticket are ordered, but a redelivered older one must not roll the snapshot back)."""
    if row is not None and row.ticket.get("version", 0) > ticket.version:
        return wire.TicketSnapshot.model_validate(row.ticket), row.ticket
    return ticket, ticket.wire()  # forwarded as published (Payload.wire: one time format)


def _calendar_keys(agg: TicketClocks, fact: Fact | None = None) -> set[str]:
    keys = {c.calendar for c in agg.clocks}
    policy: SlaPolicy | None = getattr(fact, "policy", None)
    if policy is not None:
        keys |= {t.calendar for t in policy.targets.values()}
    return keys


def _next_due(agg: TicketClocks, cals: Mapping[str, Calendar]) -> datetime | None:
    found = agg.next_timer(cals)
    return None if found is None else found[1].at


# --- timers ---------------------------------------------------------------------------------


async def fire_due(
    uow: Uow,
    cache: VersionCache,
    ticket_ids: Collection[str],
    now: datetime,
    horizon: Horizon,
    *,
    topic: str = SLA_EVENTS,
) -> list[Saved]:
    """Fire what is due on these tickets' clocks (rows locked), in one transaction.

    Each ticket is decided up to `horizon(partition)`: the event time up to which every fact
    of its partition is applied (never beyond `now`). A ticket without a horizon is left as
    it is. A ticket whose clocks cannot be computed (a bug, not the world) is logged and
    loses its timer, rather than blocking the others forever.
    """
    repo = uow.repo
    rows = await repo.lock_many(sorted(uuid.UUID(t) for t in ticket_ids))
    loaded = [(row, TicketClocks.from_dict(orjson.loads(row.aggregate))) for row in rows]
    cals = await cache.calendars(repo, {c.calendar for _, a in loaded for c in a.clocks})
    updates: list[TimerRow] = []
    items: list[Outgoing] = []
    saved: list[Saved] = []
    for i, (row, agg) in enumerate(loaded):
        if i and not i % 25:
            await asyncio.sleep(0)  # let the relay and the wheel run between tickets
        until = horizon(row.partition)
        if until is None:
            saved.append(Saved(str(row.ticket_id), row.partition, row.next_due, (), ""))
            continue
        try:
            agg, events = agg.fire(cals, until)
            next_due = _next_due(agg, cals)
        except Exception:
            log.exception(
                "cannot fire the clocks of ticket %s; its timer is dropped", row.ticket_id
            )
            updates.append(TimerRow(row.ticket_id, row.aggregate, row.clock_states, None))
            continue
        if events or next_due != row.next_due:
            aggregate = orjson.dumps(agg.to_dict()).decode()
            states = [c.state for c in agg.clocks]
            updates.append(TimerRow(row.ticket_id, aggregate, states, next_due))
        priority = ""
        if events:
            stored = orjson.loads(row.ticket)
            # Validated when its event arrived; read back as it was published then.
            ticket = wire.TicketSnapshot.model_construct(**stored)
            items += sla_envelopes(events, ticket, topic, ticket_json=stored)
            priority = ticket.priority
        saved.append(Saved(str(row.ticket_id), row.partition, next_due, events, priority))
    await repo.update_many(updates, now)
    await repo.add_events(items)
    return saved


# --- reading --------------------------------------------------------------------------------


async def read_clocks(
    uow: Uow,
    cache: VersionCache,
    principal: Principal,
    ticket_id: str,
    now: datetime,
    horizon: Horizon,
) -> dict[str, object]:
    """The clocks of a ticket computed at `now`; `NotFound` for an unknown ticket,
    `Forbidden` for a requester's look at someone else's.

    Warnings and breaches are shown as decided up to `horizon(partition)` (what the timer
    records, a moment later), never beyond: a reader never sees a breach that a fact
    already on its way would undo. Without a horizon, the stored decisions are shown.
    """
    try:
        ident = uuid.UUID(ticket_id)
    except ValueError:
        raise NotFound("Ticket", ticket_id) from None
    row = await uow.repo.get_clocks(ident)
    if row is None:
        raise NotFound("Ticket", ticket_id)
    requester = (row.ticket.get("requester") or {}).get("id")
    if not principal.is_staff and requester != principal.sub:
        raise Forbidden("Requesters may only see their own tickets")
    agg = TicketClocks.from_dict(row.aggregate)
    cals = await cache.calendars(uow.repo, _calendar_keys(agg))
    # Not saved: the timer records these; reading only shows what is already true.
    until = horizon(row.partition)
    if until is not None:
        agg, _ = agg.fire(cals, until)
    view: dict[str, object] = agg.view(cals, now)
    view["ticket_id"] = str(ident)
    return view
