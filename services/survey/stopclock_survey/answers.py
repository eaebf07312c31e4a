"""Use cases of the answer pages: keep the replica of the waits, take a requester's answer.

The replica is fed by ``tickets.events`` (every event carries the ticket snapshot). The
answer goes to ``tickets.commands`` through the outbox, in the transaction that records it,
so an answer is announced once or not at all. Functions never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.models import (
    CommentCommand,
    ResolveCommand,
    TicketCommented,
    TicketSnapshot,
    TicketStatusChanged,
)
from stopclock_shared.events.topics import TICKETS_COMMANDS
from stopclock_shared.events.types import EventType
from stopclock_shared.events.vocabulary import Channel, ResolveReason
from stopclock_shared.outbox import Outbox

from . import repository as repo
from .domain.answers import CONFIRMED_RESOLUTION, Reply
from .domain.waits import (
    WAITING,
    TicketNow,
    Wait,
    WaitEnd,
    end_of_wait,
    is_agent_comment,
    question_of,
)

SOURCE = "stopclock/survey"


# -- the replica -------------------------------------------------------------------------------
async def track(session: AsyncSession, env: Envelope, data: Any) -> None:
    """Apply one ``tickets.events`` event (typed payload with a ``ticket``) to the replica."""
    snap: TicketSnapshot = data.ticket
    ticket_id = uuid.UUID(snap.id)
    row = await repo.answer_ticket(session, ticket_id, for_update=True)
    if row is not None and row["version"] > snap.version:
        return  # an older event delivered again: the replica already knows better
    agent_comment: str | None = row["agent_comment"] if row is not None else None
    changed = isinstance(data, TicketStatusChanged)
    starts = changed and data.to_status == WAITING and data.from_status != WAITING
    ends = changed and data.from_status == WAITING and data.to_status != WAITING
    since = _waiting_since(snap, row, env.time if starts else None)
    question = question_of(data.note, agent_comment) if starts else None
    comment = data.comment if isinstance(data, TicketCommented) else None
    agent_spoke = comment is not None and is_agent_comment(
        comment.visibility, comment.author_is_requester, comment.author_id
    )
    if starts:
        agent_comment = None  # it became the question (or was superseded by the note)
    elif agent_spoke and snap.status != WAITING:
        assert comment is not None
        agent_comment = comment.body
    elif comment is not None and comment.author_is_requester and comment.visibility == "public":
        agent_comment = None  # the requester has answered it already
    await repo.upsert_answer_ticket(session, _ticket_values(snap, since, agent_comment))

    if ends:
        how = end_of_wait(data.to_status, data.reason or env.data.get("resolution_reason"))
        await repo.end_open_waits(session, ticket_id, (how or WaitEnd.RESUMED).value, env.time)
    if since is not None and (starts or row is None):
        # A wait begins, or the replica first sees a ticket that already waits.
        reason = snap.waiting_reason or (data.reason if changed else None) or ""
        await repo.insert_wait(
            session,
            {"ticket_id": ticket_id, "since": since, "reason": reason, "question": question},
        )
    if agent_spoke and snap.status == WAITING:
        assert comment is not None
        await repo.ask_in_open_wait(session, ticket_id, comment.body)


def _waiting_since(
    snap: TicketSnapshot, row: RowMapping | None, started_at: datetime | None
) -> datetime | None:
    """When the current wait began: the snapshot says so; snapshots from before
    ``waiting_since`` existed fall back on the time of the change that began it."""
    if snap.status != WAITING:
        return None
    if snap.waiting_since is not None:
        return snap.waiting_since
    if started_at is not None:
        return started_at
    return row["waiting_since"] if row is not None else None


def _ticket_values(
    snap: TicketSnapshot, since: datetime | None, agent_comment: str | None
) -> dict[str, Any]:
    return {
        "ticket_id": uuid.UUID(snap.id),
        "number": snap.number,
        "title": snap.title,
        "requester_id": snap.requester.id,
        "locale": snap.requester.locale,
        "timezone": snap.requester.timezone,
        "assignee_name": snap.assignee.name if snap.assignee is not None else None,
        "status": snap.status,
        "waiting_reason": snap.waiting_reason if snap.status == WAITING else None,
        "waiting_since": since,
        "agent_comment": agent_comment,
        "version": snap.version,
        "updated_at": snap.updated_at,
    }


def ticket_now(row: Mapping[str, Any]) -> TicketNow:
    return TicketNow(
        status=row["status"], waiting_since=row["waiting_since"], known_until=row["updated_at"]
    )


def wait_from(row: Mapping[str, Any] | None) -> Wait | None:
    if row is None:
        return None
    how = row["ended_how"]
    return Wait(
        since=row["since"],
        reason=row["reason"],
        question=row["question"],
        ended_at=row["ended_at"],
        end=WaitEnd(how) if how else None,
        answered_at=row["answered_at"],
        answer=row["answer"],
    )


# -- the answer --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Answered:
    resolve: bool
    at: datetime


async def answer_wait(
    session: AsyncSession,
    outbox: Outbox,
    ticket: Mapping[str, Any],
    wait: Mapping[str, Any],
    reply: Reply,
    *,
    answer: str | None,
    comment: str | None,
    now: datetime,
) -> Answered:
    """Record the page's one answer to ``wait`` (row locked by the caller) and ask the
    ticket service for the requester's comment, then (on "yes, it works") the resolution."""
    ticket_id = str(ticket["ticket_id"])
    commands: list[tuple[str, dict[str, Any]]] = [
        (
            EventType.COMMAND_COMMENT,
            CommentCommand(
                ticket_id=ticket_id,
                body=reply.comment,
                visibility="public",
                author_id=ticket["requester_id"],
                channel=Channel.PAGE,
            ).model_dump(mode="json"),
        )
    ]
    if reply.resolve:
        resolve = ResolveCommand(
            ticket_id=ticket_id,
            resolution=CONFIRMED_RESOLUTION,
            reason=ResolveReason.CONFIRMED_BY_REQUESTER,
        )
        commands.append((EventType.COMMAND_RESOLVE, resolve.model_dump(mode="json")))
    # One row each, in order: the relay publishes by row id, and the ticket service must
    # see the comment (the requester's answer) before the resolution.
    for type_, data in commands:
        envelope = new_envelope(type_, source=SOURCE, subject=ticket_id, time=now, data=data)
        await outbox.add(session, TICKETS_COMMANDS, ticket_id, envelope)
    await repo.record_answer(
        session,
        ticket["ticket_id"],
        wait["since"],
        {"answered_at": now, "answer": answer, "comment": comment},
    )
    return Answered(resolve=reply.resolve, at=now)
