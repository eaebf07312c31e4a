"""Use cases of the answer pages: keep the replica of the waits on requesters, say what a
link's page shows, take the requester's answer.

The replica is fed by ``tickets.events`` (every event carries the ticket snapshot). The
answer goes to ``tickets.commands`` through the outbox, in the transaction that records it,
so an answer is announced once or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from stopclock_shared.events.tickets import (
    TicketCommented,
    TicketCreated,
    TicketSnapshot,
    TicketStatusChanged,
    TicketUpdated,
)
from stopclock_shared.events.topics import TICKETS_COMMANDS
from stopclock_shared.links import AnswerRef
from stopclock_shared.unit_of_work import UnitOfWork

from .. import events
from ..domain.answers import Reply, take_answer
from ..domain.errors import UnknownLink, WaitClosed
from ..domain.survey import clean_comment
from ..domain.waits import (
    USER_VALIDATION,
    WAITING,
    Verdict,
    Wait,
    WaitEnd,
    WaitingTicket,
    end_of_wait,
    is_agent_comment,
    question_of,
    verdict,
)
from ..repository import SurveyRepository

TicketEvent = TicketCreated | TicketUpdated | TicketCommented | TicketStatusChanged


async def track_ticket(uow: UnitOfWork[SurveyRepository], event: TicketEvent, at: datetime) -> None:
    """Apply one ``tickets.events`` event (that happened ``at``) to the replica."""
    snap = event.ticket
    ticket_id = uuid.UUID(snap.id)
    known = await uow.repo.waiting_ticket(ticket_id, for_update=True)
    if known is not None and known.version > snap.version:
        return  # an older event delivered again: the replica already knows better
    agent_comment = known.agent_comment if known is not None else None
    change = event if isinstance(event, TicketStatusChanged) else None
    starts = change is not None and change.to_status == WAITING and change.from_status != WAITING
    ends = change is not None and change.from_status == WAITING and change.to_status != WAITING
    since = _waiting_since(snap, known, at if starts else None)
    comment = event.comment if isinstance(event, TicketCommented) else None
    agent_spoke = comment is not None and is_agent_comment(
        comment.visibility, comment.author_is_requester, comment.author_id
    )
    question = None
    if change is not None and starts:
        question = question_of(change.note, agent_comment)
        agent_comment = None  # it became the question (or was superseded by the note)
    elif comment is not None and agent_spoke and snap.status != WAITING:
        agent_comment = comment.body
    elif comment is not None and comment.author_is_requester and comment.visibility == "public":
        agent_comment = None  # the requester has answered it already
    await uow.repo.save_waiting_ticket(_waiting_ticket(snap, since, agent_comment))

    if change is not None and ends:
        how = end_of_wait(change.to_status, change.reason or change.resolution_reason)
        await uow.repo.end_open_waits(ticket_id, how or WaitEnd.RESUMED, at)
    if since is not None and (starts or known is None):
        # A wait begins, or the replica first sees a ticket that already waits.
        reason = snap.waiting_reason or (change.reason if change is not None else None)
        await uow.repo.add_wait(ticket_id, Wait(since, reason or "", question))
    if comment is not None and agent_spoke and snap.status == WAITING:
        await uow.repo.ask_in_open_wait(ticket_id, comment.body)


def _waiting_since(
    snap: TicketSnapshot, known: WaitingTicket | None, started_at: datetime | None
) -> datetime | None:
    """When the current wait began: the snapshot says so; snapshots from before
    ``waiting_since`` existed fall back on the time of the change that began it."""
    if snap.status != WAITING:
        return None
    if snap.waiting_since is not None:
        return snap.waiting_since
    if started_at is not None:
        return started_at
    return known.waiting_since if known is not None else None


def _waiting_ticket(
    snap: TicketSnapshot, since: datetime | None, agent_comment: str | None
) -> WaitingTicket:
    waiting = snap.status == WAITING
    return WaitingTicket(
        ticket_id=uuid.UUID(snap.id),
        number=snap.number,
        title=snap.title,
        requester_id=snap.requester.id,
        locale=snap.requester.locale,
        timezone=snap.requester.timezone,
        assignee_name=snap.assignee.name if snap.assignee is not None else None,
        status=snap.status,
        waiting_reason=snap.waiting_reason if waiting else None,
        waiting_since=since,
        agent_comment=agent_comment,
        version=snap.version,
        updated_at=snap.updated_at,
    )


@dataclass(frozen=True, slots=True)
class AnswerPage:
    """What an answer link's page stands on: the ticket, the link's wait, the verdict."""

    ticket: WaitingTicket
    wait: Wait | None
    verdict: Verdict


async def answer_page(
    uow: UnitOfWork[SurveyRepository], ref: AnswerRef, *, for_update: bool = False
) -> AnswerPage:
    """The page of the link ``ref``; ``UnknownLink`` when the replica has no such ticket.

    To answer (``for_update``), the wait's row is locked first: the replica cannot end
    that wait (nor commit the ticket's change that ends it) before the answer is recorded.
    """
    if for_update:
        wait = await uow.repo.wait_of(ref.ticket_id, ref.waiting_since, for_update=True)
        ticket = await uow.repo.waiting_ticket(ref.ticket_id)
    else:
        ticket, wait = await uow.repo.ticket_and_wait(ref.ticket_id, ref.waiting_since)
    if ticket is None:
        raise UnknownLink("ticket")
    return AnswerPage(ticket, wait, verdict(ref.waiting_since, ticket.now(), wait))


async def answer_wait(
    uow: UnitOfWork[SurveyRepository],
    page: AnswerPage,
    *,
    answer: str | None,
    comment: str,
    now: datetime,
) -> Reply:
    """Take the page's one answer to its wait (``page`` read ``for_update``): ask the
    ticket service for the requester's comment, then (on "yes, it works") the resolution.

    Raises ``WaitClosed`` when the wait takes no answer, ``InvalidAnswer`` naming the
    fields to fix.
    """
    if not page.verdict.open or page.wait is None:
        raise WaitClosed(page.verdict)
    wait, ticket = page.wait, page.ticket
    reply = take_answer(wait.reason, answer, comment)
    ticket_id = str(ticket.ticket_id)
    # One outbox row each, in order: the relay publishes by row id, and the ticket service
    # must see the comment (the requester's answer) before the resolution.
    said = events.requester_comment(ticket_id, ticket.requester_id, reply.comment, now)
    await uow.emit(TICKETS_COMMANDS, ticket_id, said)
    if reply.resolve:
        await uow.emit(TICKETS_COMMANDS, ticket_id, events.confirmed_resolution(ticket_id, now))
    choice = answer if wait.reason == USER_VALIDATION else None
    answered = replace(wait, answered_at=now, answer=choice)
    await uow.repo.record_answer(ticket.ticket_id, answered, clean_comment(comment))
    return reply
