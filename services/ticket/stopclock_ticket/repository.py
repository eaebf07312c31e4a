"""All SQL of the ticket service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    RowMapping,
    Select,
    and_,
    bindparam,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy import Sequence as Sequence_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.outbox import Outbox

from .models import (
    comments,
    history,
    incident_numbers,
    outage_updates,
    outages,
    people,
    request_numbers,
    subscribers,
    tickets,
)


async def upsert_person(
    session: AsyncSession, person_id: str, fields: dict[str, Any], now: datetime
) -> tuple[RowMapping, bool]:
    """Create or replace a person; the flag tells whether it was created."""
    existed = await get_person(session, person_id) is not None
    upsert = insert(people).values(id=person_id, created_at=now, updated_at=now, **fields)
    stmt = upsert.on_conflict_do_update(
        index_elements=[people.c.id], set_={**fields, "updated_at": now}
    ).returning(*people.c)
    row = (await session.execute(stmt)).mappings().one()
    return row, not existed


async def get_person(session: AsyncSession, person_id: str) -> RowMapping | None:
    return (await session.execute(_SELECT_PERSON, {"person_id": person_id})).mappings().first()


_manager = people.alias("manager")
# Built once: constructing statements per request costs more CPU than running them.
_PEOPLE_AND_MANAGERS = select(people, *[c.label(f"m_{c.name}") for c in _manager.c]).outerjoin(
    _manager, _manager.c.id == people.c.manager_id
)
_PEOPLE_WITH_MANAGERS = _PEOPLE_AND_MANAGERS.where(
    people.c.id.in_(bindparam("ids", expanding=True))
)
_INSERT_HISTORY = insert(history)
_INSERT_COMMENT = insert(comments).returning(*comments.c)
_SELECT_PERSON = select(people).where(people.c.id == bindparam("person_id"))


async def get_people_with_managers(
    session: AsyncSession, ids: Sequence[str]
) -> dict[str, tuple[dict[str, Any], dict[str, Any] | None]]:
    """People and their managers in one round trip (for event snapshots)."""
    if not ids:
        return {}
    found: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {}
    rows = await session.execute(_PEOPLE_WITH_MANAGERS, {"ids": list(ids)})
    for row in rows.mappings():
        found[row["id"]] = _person_and_manager(row)
    return found


def _person_and_manager(row: RowMapping) -> tuple[dict[str, Any], dict[str, Any] | None]:
    person = {c.name: row[c.name] for c in people.c}
    boss = {c.name: row[f"m_{c.name}"] for c in _manager.c} if row["m_id"] else None
    return person, boss


async def get_people(session: AsyncSession, ids: Sequence[str]) -> dict[str, RowMapping]:
    if not ids:
        return {}
    rows = (await session.execute(select(people).where(people.c.id.in_(ids)))).mappings().all()
    return {r["id"]: r for r in rows}


def _requester_and_number(sequence: Sequence_) -> Select[Any]:
    return _PEOPLE_AND_MANAGERS.where(people.c.id == bindparam("person_id")).add_columns(
        sequence.next_value().label("seq")
    )


# The requester (with manager) and the ticket's number in one round trip; no number is
# drawn for an unknown requester.
_REQUESTER_AND_NUMBER = {
    "incident": _requester_and_number(incident_numbers),
    "service_request": _requester_and_number(request_numbers),
}


async def requester_and_number(
    session: AsyncSession, person_id: str, ticket_type: str
) -> tuple[dict[str, Any], dict[str, Any] | None, int] | None:
    row = (
        (await session.execute(_REQUESTER_AND_NUMBER[ticket_type], {"person_id": person_id}))
        .mappings()
        .first()
    )
    if row is None:
        return None
    person, boss = _person_and_manager(row)
    return person, boss, int(row["seq"])


def open_ticket_statement(outbox: Outbox) -> Select[Any]:
    """The new ticket, its first history entry and its event: one statement."""
    ticket = insert(tickets).values({c.name: bindparam(f"t_{c.name}") for c in tickets.c})
    entry = insert(history).values(
        {c: bindparam(f"h_{c}") for c in ("ticket_id", "version", "action", "actor_id")}
        | {"changes": bindparam("h_changes"), "created_at": bindparam("h_created_at")}
    )
    return outbox.with_writes(
        ticket.returning(tickets.c.id).cte("new_ticket"),
        entry.returning(history.c.id).cte("new_history"),
    )


async def open_ticket(
    session: AsyncSession,
    statement: Select[Any],
    ticket: dict[str, Any],
    entry: dict[str, Any],
    event: dict[str, Any],
) -> None:
    params = {f"t_{k}": v for k, v in ticket.items()} | {f"h_{k}": v for k, v in entry.items()}
    await session.execute(statement, params | event)


# Two-key advisory locks live apart from the one-key ones (outbox relay, migrations).
_LOCK_TICKET_ID = text("SELECT pg_advisory_xact_lock(:space, :key)")
_TICKET_ID_LOCK_SPACE = 0x7469636B  # "tick"


async def lock_ticket_id(session: AsyncSession, ticket_id: uuid.UUID) -> None:
    """Hold, until the transaction ends, a lock on an id whose ticket may not exist yet (so
    there is no row to lock): concurrent creations under one id run one after the other."""
    key = int.from_bytes(ticket_id.bytes[:4], "big", signed=True)
    await session.execute(_LOCK_TICKET_ID, {"space": _TICKET_ID_LOCK_SPACE, "key": key})


async def get_ticket(
    session: AsyncSession, ticket_id: uuid.UUID, *, for_update: bool = False
) -> RowMapping | None:
    stmt = select(tickets).where(tickets.c.id == ticket_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def update_ticket(
    session: AsyncSession, ticket_id: uuid.UUID, values: dict[str, Any]
) -> RowMapping:
    """Write the changed fields and bump the version once for the whole change."""
    stmt = (
        update(tickets)
        .where(tickets.c.id == ticket_id)
        .values(**values, version=tickets.c.version + 1)
        .returning(*tickets.c)
    )
    return (await session.execute(stmt)).mappings().one()


async def list_tickets(
    session: AsyncSession,
    filters: dict[str, Any],
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> Sequence[RowMapping]:
    stmt = select(tickets)
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(tickets.c[column] == value)
    if after is not None:
        created, ident = after
        stmt = stmt.where(tuple_(tickets.c.created_at, tickets.c.id) > tuple_(created, ident))
    stmt = stmt.order_by(tickets.c.created_at, tickets.c.id).limit(limit + 1)
    return (await session.execute(stmt)).mappings().all()


async def add_history(
    session: AsyncSession,
    ticket_id: uuid.UUID,
    version: int,
    action: str,
    actor_id: str | None,
    changes: dict[str, Any],
    now: datetime,
    *,
    internal: bool = False,
) -> None:
    await session.execute(
        _INSERT_HISTORY,
        {
            "ticket_id": ticket_id,
            "version": version,
            "action": action,
            "actor_id": actor_id,
            "changes": changes,
            "created_at": now,
            "internal": internal,
        },
    )


async def list_history(
    session: AsyncSession, ticket_id: uuid.UUID, include_internal: bool
) -> Sequence[RowMapping]:
    stmt = select(history).where(history.c.ticket_id == ticket_id)
    if not include_internal:
        stmt = stmt.where(history.c.internal.is_(False))
    return (await session.execute(stmt.order_by(history.c.id))).mappings().all()


async def insert_comment(session: AsyncSession, values: dict[str, Any]) -> RowMapping:
    return (await session.execute(_INSERT_COMMENT, values)).mappings().one()


async def list_comments(
    session: AsyncSession,
    ticket_id: uuid.UUID,
    public_only: bool,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> Sequence[RowMapping]:
    stmt = select(comments).where(comments.c.ticket_id == ticket_id)
    if public_only:
        stmt = stmt.where(comments.c.visibility == "public")
    if after is not None:
        created, ident = after
        stmt = stmt.where(
            or_(
                comments.c.created_at > created,
                and_(comments.c.created_at == created, comments.c.id > ident),
            )
        )
    stmt = stmt.order_by(comments.c.created_at, comments.c.id).limit(limit + 1)
    return (await session.execute(stmt)).mappings().all()


async def subscribe(
    session: AsyncSession, service: str, person_id: str, now: datetime
) -> RowMapping:
    stmt = (
        insert(subscribers)
        .values(service=service, person_id=person_id, created_at=now)
        .on_conflict_do_update(
            index_elements=[subscribers.c.service, subscribers.c.person_id],
            set_={"service": service},
        )
        .returning(*subscribers.c)
    )
    return (await session.execute(stmt)).mappings().one()


async def subscribers_of(session: AsyncSession, service: str) -> Sequence[RowMapping]:
    stmt = (
        select(people)
        .join(subscribers, subscribers.c.person_id == people.c.id)
        .where(subscribers.c.service == service)
        .order_by(people.c.id)
    )
    return (await session.execute(stmt)).mappings().all()


async def insert_outage(session: AsyncSession, values: dict[str, Any]) -> RowMapping:
    return (
        (await session.execute(insert(outages).values(**values).returning(*outages.c)))
        .mappings()
        .one()
    )


async def get_outage(
    session: AsyncSession, outage_id: uuid.UUID, *, for_update: bool = False
) -> RowMapping | None:
    stmt = select(outages).where(outages.c.id == outage_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def update_outage(
    session: AsyncSession, outage_id: uuid.UUID, values: dict[str, Any]
) -> RowMapping:
    stmt = update(outages).where(outages.c.id == outage_id).values(**values).returning(*outages.c)
    return (await session.execute(stmt)).mappings().one()


async def add_outage_update(
    session: AsyncSession, outage_id: uuid.UUID, kind: str, message: str, now: datetime
) -> None:
    await session.execute(
        insert(outage_updates).values(
            outage_id=outage_id, kind=kind, message=message, created_at=now
        )
    )


async def list_outage_updates(session: AsyncSession, outage_id: uuid.UUID) -> Sequence[RowMapping]:
    stmt = (
        select(outage_updates)
        .where(outage_updates.c.outage_id == outage_id)
        .order_by(outage_updates.c.id)
    )
    return (await session.execute(stmt)).mappings().all()


async def count_open(session: AsyncSession) -> Sequence[RowMapping]:
    from sqlalchemy import func

    stmt = (
        select(tickets.c.status, tickets.c.priority, func.count().label("n"))
        .where(tickets.c.status.notin_(["closed", "cancelled", "resolved"]))
        .group_by(tickets.c.status, tickets.c.priority)
    )
    return (await session.execute(stmt)).mappings().all()
