"""Use cases of the sla service: (session, input, now) -> state + outbox rows.

Functions never commit; the HTTP dependency, the consumer loop or the timer loop owns the
transaction. Changes of clocks return a `Saved` that says what to do once committed
(reschedule the ticket's timer, count the events).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import RowMapping, Table
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.auth import Principal
from stopclock_shared.business_time import (
    Calendar,
    CalendarError,
    calendar_from_spec,
    calendar_to_spec,
)
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.models import (
    TicketCommented,
    TicketCreated,
    TicketPriorityChanged,
    TicketSnapshot,
    TicketStatusChanged,
    TicketUpdated,
)
from stopclock_shared.events.topics import SLA_EVENTS
from stopclock_shared.outbox import Outbox
from stopclock_shared.problems import ProblemError, field_error, not_found
from stopclock_sla.domain import (
    Fact,
    PolicyError,
    SlaEvent,
    SlaPolicy,
    TicketAudit,
    TicketClocks,
    audit_ticket,
    gained,
    policy_from_spec,
    policy_to_spec,
    start_clocks,
)

from . import repository as repo
from .builtins import ALWAYS_NAME, ALWAYS_SPEC, ALWAYS_VERSION, default_policy_specs
from .catalog import Catalog
from .models import calendars, policies
from .sla_events import calendar_envelope, sla_envelope
from .ticket_facts import (
    adopted_facts,
    comment_fact,
    created_facts,
    priority_fact,
    status_fact,
)
from .timer_notes import TimerNote
from .versions import is_valid_name

log = logging.getLogger(__name__)
Horizon = Callable[[int], datetime | None]
"""Partition -> the event time up to which timers may be decided (None: not here)."""
TicketEvent = (
    TicketCreated | TicketUpdated | TicketStatusChanged | TicketCommented | TicketPriorityChanged
)


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


# --- policies -------------------------------------------------------------------------------


def policy_read(row: RowMapping) -> dict[str, Any]:
    """The API form of a stored policy version."""
    return {
        "name": row["name"],
        "version": row["version"],
        **row["spec"],
        "updated_at": row["created_at"],
    }


def calendar_read(row: RowMapping) -> dict[str, Any]:
    """The API form of a stored calendar version."""
    return {
        "name": row["name"],
        "version": row["version"],
        **row["spec"],
        "builtin": row["name"] == ALWAYS_NAME,
        "updated_at": row["created_at"],
    }


def _check_name(name: str) -> None:
    if not is_valid_name(name):
        raise field_error(
            "name", "use 1 to 100 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )


async def put_policy(
    session: AsyncSession, catalog: Catalog, name: str, body: Mapping[str, Any], now: datetime
) -> tuple[dict[str, Any], bool]:
    """Add a version of a policy (unless the body equals the current one); True if new name."""
    _check_name(name)
    await repo.lock_name(session, policies, name)
    current = await repo.get_version(session, policies, name)
    known = set(await repo.heads(session, calendars))
    version = 1 if current is None else current["version"] + 1
    try:
        policy = policy_from_spec(name, body, version=version, calendars=known)
    except PolicyError as exc:
        raise ProblemError(
            422,
            "Validation error",
            str(exc),
            errors=[{"field": e.field, "message": e.message} for e in exc.errors],
        ) from exc
    spec = policy_to_spec(policy)
    if current is not None and current["spec"] == spec:
        return policy_read(current), False
    row = await repo.insert_version(session, policies, name, version, spec, now)
    assert row is not None, "writers of a name are serialised by lock_name"
    catalog.remember_policy(policy)
    return policy_read(row), current is None


async def get_current(
    session: AsyncSession, table: Table, what: str, name: str, version: int | None
) -> RowMapping:
    """A policy or calendar version (current by default), or a 404 problem."""
    row = await repo.get_version(session, table, name, version)
    if row is None:
        label = name if version is None else f"{name} version {version}"
        raise not_found(what, label)
    return row


# --- calendars ------------------------------------------------------------------------------


async def put_calendar(
    session: AsyncSession,
    outbox: Outbox,
    catalog: Catalog,
    name: str,
    body: Mapping[str, Any],
    now: datetime,
    *,
    topic: str = SLA_EVENTS,
) -> tuple[dict[str, Any], bool]:
    """Add a calendar version (unless unchanged) and announce it on `sla.events`."""
    if name == ALWAYS_NAME:
        raise ProblemError(
            409, "Built-in calendar", "The 24x7 calendar always exists and cannot be replaced"
        )
    _check_name(name)
    try:
        # Country holidays take ~0.2 s to expand: off the event loop's thread.
        cal = await asyncio.to_thread(calendar_from_spec, name, body)
    except CalendarError as exc:
        raise field_error(exc.field, exc.message) from exc
    spec = {
        "timezone": cal.timezone,
        "week": calendar_to_spec(cal)["week"],
        "holidays": dict(body.get("holidays") or {}),
    }
    await repo.lock_name(session, calendars, name)
    current = await repo.get_version(session, calendars, name)
    row: RowMapping | None = current
    if current is None or current["spec"] != spec:
        version = 1 if current is None else current["version"] + 1
        row = await repo.insert_version(session, calendars, name, version, spec, now)
        assert row is not None, "writers of a name are serialised by lock_name"
        catalog.remember_calendar(name, version, cal)
    assert row is not None
    envelope = calendar_envelope(name, row["spec"], row["created_at"])
    await outbox.add(session, topic, name, envelope)
    return calendar_read(row), current is None


async def seed_builtins(
    session: AsyncSession,
    outbox: Outbox,
    now: datetime,
    *,
    default_policies: bool,
    topic: str = SLA_EVENTS,
) -> None:
    """Write the 24x7 calendar (announcing it once) and the default policies, if missing."""
    row = await repo.insert_version(
        session, calendars, ALWAYS_NAME, ALWAYS_VERSION, ALWAYS_SPEC, now
    )
    if row is not None:
        envelope = calendar_envelope(ALWAYS_NAME, row["spec"], row["created_at"])
        await outbox.add(session, topic, ALWAYS_NAME, envelope)
    if not default_policies:
        return
    existing = await repo.heads(session, policies, default_policy_specs().keys())
    for name, body in default_policy_specs().items():
        if name not in existing:
            policy = policy_from_spec(name, body, version=1, calendars={ALWAYS_NAME})
            await repo.insert_version(session, policies, name, 1, policy_to_spec(policy), now)


# --- ticket events --------------------------------------------------------------------------


async def apply_ticket_event(
    session: AsyncSession,
    outbox: Outbox,
    catalog: Catalog,
    envelope: Envelope,
    data: TicketEvent,
    partition: int,
    now: datetime,
    *,
    topic: str = SLA_EVENTS,
) -> Saved:
    """Apply one ticket event to the ticket's clocks and write the SLA events it caused."""
    ticket = data.ticket
    ticket_id = uuid.UUID(ticket.id)
    row = await repo.get_clocks(session, ticket_id, for_update=True)
    events: tuple[SlaEvent, ...] = ()
    if row is None:
        agg, events = await _start(session, catalog, envelope, data)
    else:
        agg = TicketClocks.from_dict(row["aggregate"])
    fact = (
        None if isinstance(data, TicketCreated) else await _fact(session, catalog, envelope, data)
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
        cals = await catalog.calendars(session, _calendar_keys(agg, fact))
        before = None if row is None else (agg, cals)
        agg, more = agg.apply(fact, cals)
        events += more
    snapshot = _latest_snapshot(row, ticket)
    cals = await catalog.calendars(session, _calendar_keys(agg))
    next_due = _next_due(agg, cals)
    resolution = agg.clock("resolution")
    values = {
        "partition": partition,
        "aggregate": agg.to_dict(),
        "ticket": snapshot,
        "clock_states": [c.state for c in agg.clocks],
        "next_due": next_due,
        "resolution_started_at": None if resolution is None else resolution.started_at,
        "updated_at": now,
    }
    if row is None:
        await repo.insert_clocks(session, {"ticket_id": ticket_id, "created_at": now, **values})
    else:
        await repo.update_clocks(session, ticket_id, values)
    moved = row is None or row["next_due"] != next_due or row["partition"] != partition
    notes = [TimerNote(ticket.id, partition, next_due).encode()] if moved else []
    await repo.add_events(session, outbox, _envelopes(events, snapshot, topic, envelope), notes)
    audit = _audit_gain(before, agg, cals) if fact is not None or row is None else None
    return Saved(ticket.id, partition, next_due, events, snapshot["priority"], late, audit)


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
    session: AsyncSession, catalog: Catalog, envelope: Envelope, data: TicketEvent
) -> tuple[TicketClocks, tuple[SlaEvent, ...]]:
    ticket = data.ticket
    policy = await catalog.match(session, ticket.type, ticket.priority, ticket.service)
    if isinstance(data, TicketCreated):
        facts, at = created_facts(envelope, ticket), envelope.time
    else:
        facts, at = adopted_facts(ticket), ticket.created_at
        log.warning("ticket %s seen without its created event; adopting it", ticket.id)
    keys = () if policy is None else (t.calendar for t in policy.targets.values())
    return start_clocks(policy, await catalog.calendars(session, keys), facts, at)


async def _fact(
    session: AsyncSession, catalog: Catalog, envelope: Envelope, data: TicketEvent
) -> Fact | None:
    if isinstance(data, TicketStatusChanged):
        return status_fact(envelope, data)
    if isinstance(data, TicketCommented):
        return comment_fact(envelope, data)
    if isinstance(data, TicketPriorityChanged):
        t = data.ticket
        policy = await catalog.match(session, t.type, data.to_priority, t.service)
        return priority_fact(envelope, t, data.to_priority, policy)
    return None


def _latest_snapshot(row: RowMapping | None, ticket: TicketSnapshot) -> dict[str, Any]:
    """The newer of the stored snapshot and the event's (events of a ticket are ordered,
    but a redelivered older one must not roll the snapshot back)."""
    fresh = ticket.model_dump(mode="json")
    if row is not None and row["ticket"].get("version", 0) > ticket.version:
        stored: dict[str, Any] = row["ticket"]
        return stored
    return fresh


def _calendar_keys(agg: TicketClocks, fact: Fact | None = None) -> set[str]:
    keys = {c.calendar for c in agg.clocks}
    policy: SlaPolicy | None = getattr(fact, "policy", None)
    if policy is not None:
        keys |= {t.calendar for t in policy.targets.values()}
    return keys


def _next_due(agg: TicketClocks, cals: Mapping[str, Calendar]) -> datetime | None:
    found = agg.next_timer(cals)
    return None if found is None else found[1].at


def _envelopes(
    events: Iterable[SlaEvent],
    snapshot: Mapping[str, Any],
    topic: str,
    cause: Envelope | None = None,
) -> list[tuple[str, str, Envelope]]:
    out = []
    for event in events:
        env = sla_envelope(event, snapshot, cause)
        if env is not None:
            out.append((topic, event.ticket_id, env))
    return out


# --- timers ---------------------------------------------------------------------------------


async def fire_due(
    session: AsyncSession,
    outbox: Outbox,
    catalog: Catalog,
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
    rows = await repo.lock_many(session, sorted(uuid.UUID(t) for t in ticket_ids))
    loaded = [(row, TicketClocks.from_dict(orjson.loads(row["aggregate"]))) for row in rows]
    cals = await catalog.calendars(session, {c.calendar for _, a in loaded for c in a.clocks})
    updates: list[repo.TimerRow] = []
    items: list[tuple[str, str, Envelope]] = []
    saved: list[Saved] = []
    for i, (row, agg) in enumerate(loaded):
        if i and not i % 25:
            await asyncio.sleep(0)  # let the relay and the wheel run between tickets
        until = horizon(row["partition"])
        if until is None:
            saved.append(Saved(str(row["ticket_id"]), row["partition"], row["next_due"], (), ""))
            continue
        try:
            agg, events = agg.fire(cals, until)
            next_due = _next_due(agg, cals)
        except Exception:
            log.exception(
                "cannot fire the clocks of ticket %s; its timer is dropped", row["ticket_id"]
            )
            updates.append(
                repo.TimerRow(row["ticket_id"], row["aggregate"], row["clock_states"], None)
            )
            continue
        if events or next_due != row["next_due"]:
            aggregate = orjson.dumps(agg.to_dict()).decode()
            states = [c.state for c in agg.clocks]
            updates.append(repo.TimerRow(row["ticket_id"], aggregate, states, next_due))
        ticket: dict[str, Any] = orjson.loads(row["ticket"]) if events else {}
        items += _envelopes(events, ticket, topic)
        priority = ticket.get("priority", "")
        saved.append(Saved(str(row["ticket_id"]), row["partition"], next_due, events, priority))
    await repo.update_many(session, updates, now)
    await repo.add_events(session, outbox, items)
    return saved


# --- reading --------------------------------------------------------------------------------


async def read_clocks(
    session: AsyncSession,
    catalog: Catalog,
    principal: Principal,
    ticket_id: str,
    now: datetime,
    horizon: Horizon,
) -> dict[str, Any]:
    """The clocks of a ticket computed at `now`.

    Warnings and breaches are shown as decided up to `horizon(partition)` (what the timer
    records, a moment later), never beyond: a reader never sees a breach that a fact
    already on its way would undo. Without a horizon, the stored decisions are shown.
    """
    try:
        ident = uuid.UUID(ticket_id)
    except ValueError:
        raise not_found("Ticket", ticket_id) from None
    row = await repo.get_clocks(session, ident)
    if row is None:
        raise not_found("Ticket", ticket_id)
    requester = (row["ticket"].get("requester") or {}).get("id")
    if not principal.is_staff and requester != principal.sub:
        raise ProblemError(403, "Forbidden", "Requesters may only see their own tickets")
    agg = TicketClocks.from_dict(row["aggregate"])
    cals = await catalog.calendars(session, _calendar_keys(agg))
    # Not saved: the timer records these; reading only shows what is already true.
    until = horizon(row["partition"])
    if until is not None:
        agg, _ = agg.fire(cals, until)
    view: dict[str, Any] = agg.view(cals, now)
    view["ticket_id"] = str(ident)
    return view
