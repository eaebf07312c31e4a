"""Waits on the requester as the answer pages see them, and what a link's page says.

A wait begins when a ticket moves to ``waiting_on_user`` (``waiting_since`` names it: an
answer link carries it) and ends with the next status change. The page of a link shows the
form only while its own wait is the ticket's current one and was not answered on the page;
otherwise it says, politely, what happened to that wait.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from stopclock_shared.events.vocabulary import (
    REQUESTER_ANSWERED,
    ResolveReason,
    Status,
    WaitingReason,
)
from stopclock_shared.links import same_wait

# The ticket service's words (its statuses, waiting reasons and status-change reasons).
WAITING = Status.WAITING_ON_USER
RESOLVED = Status.RESOLVED
CLOSED = Status.CLOSED
CANCELLED = Status.CANCELLED
USER_VALIDATION = WaitingReason.USER_VALIDATION
INFO_REQUESTED = WaitingReason.INFO_REQUESTED
USER_RESPONSE = WaitingReason.USER_RESPONSE
# The waiting reasons the answer page has its own words for; any other reads as a reply.
PAGE_REASONS = frozenset({USER_VALIDATION, INFO_REQUESTED, USER_RESPONSE})


def page_reason(waiting_reason: str) -> str:
    """The waiting reason the answer page speaks of."""
    return waiting_reason if waiting_reason in PAGE_REASONS else USER_RESPONSE


class WaitEnd(StrEnum):
    """How a wait ended, from the status change that ended it."""

    ANSWERED = "answered"  # the requester answered (page, mail or API)
    CONFIRMED = "confirmed"  # resolved: the requester confirmed it works
    RESOLVED = "resolved"  # resolved by the desk
    NO_RESPONSE = ResolveReason.NO_RESPONSE.value  # resolved for lack of response
    CANCELLED = "cancelled"
    RESUMED = "resumed"  # the desk took it back without an answer


def end_of_wait(to_status: str, reason: str | None) -> WaitEnd | None:
    """How moving a waiting ticket to ``to_status`` ended its wait; None if it still waits.

    ``reason`` is the status change's reason (for a resolution, why it was resolved).
    """
    if to_status == WAITING:
        return None
    if to_status in (RESOLVED, CLOSED):
        if reason == ResolveReason.CONFIRMED_BY_REQUESTER:
            return WaitEnd.CONFIRMED
        if reason == ResolveReason.NO_RESPONSE:
            return WaitEnd.NO_RESPONSE
        return WaitEnd.RESOLVED
    if to_status == CANCELLED:
        return WaitEnd.CANCELLED
    if reason == REQUESTER_ANSWERED:
        return WaitEnd.ANSWERED
    return WaitEnd.RESUMED


def question_of(note: str | None, last_agent_comment: str | None) -> str | None:
    """The agent's question: the note of the change that began the wait, else the last
    public agent comment before it (blank counts as none)."""
    for text in (note, last_agent_comment):
        if text is not None and text.strip():
            return text
    return None


@dataclass(frozen=True, slots=True)
class Wait:
    """One wait of a ticket, as the replica keeps it."""

    since: datetime
    reason: str
    question: str | None = None
    ended_at: datetime | None = None
    end: WaitEnd | None = None
    answered_at: datetime | None = None  # answered on the answer page
    answer: str | None = None  # "yes" | "no" | None (a comment only)


@dataclass(frozen=True, slots=True)
class TicketNow:
    """Where the ticket stands now, as the replica knows it."""

    status: str
    waiting_since: datetime | None
    known_until: datetime  # the time of the newest change the replica has seen


@dataclass(frozen=True, slots=True)
class WaitingTicket:
    """A ticket as the answer pages keep it (from the snapshots of ``tickets.events``)."""

    ticket_id: uuid.UUID
    number: str
    title: str
    requester_id: str
    locale: str
    timezone: str
    assignee_name: str | None
    status: str
    waiting_reason: str | None
    waiting_since: datetime | None
    # The last public agent comment since the last wait ended: the question of a wait
    # begun without a note.
    agent_comment: str | None
    version: int
    updated_at: datetime  # the snapshot's: the replica knows the ticket up to then

    def now(self) -> TicketNow:
        return TicketNow(self.status, self.waiting_since, known_until=self.updated_at)


class PageKind(StrEnum):
    """What the page of an answer link shows."""

    OPEN = "open"  # the form
    PENDING = "pending"  # a wait begun after the newest change we know of: on its way
    ANSWERED_HERE = "answered_here"  # answered on the page already
    CONFIRMED_HERE = "confirmed_here"  # "yes, it works" on the page already
    ANSWERED = "answered"
    CONFIRMED = "confirmed"
    RESOLVED = "resolved"
    NO_RESPONSE = WaitEnd.NO_RESPONSE.value
    CANCELLED = "cancelled"
    RESUMED = "resumed"
    SUPERSEDED = "superseded"  # an earlier wait; the ticket waits on a newer question
    OVER = "over"  # the wait is over and we do not know how (not in the replica)


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: PageKind
    at: datetime | None = None  # when it happened, for the page's sentence

    @property
    def open(self) -> bool:
        return self.kind is PageKind.OPEN

    @property
    def answered_here(self) -> bool:
        return self.kind in (PageKind.ANSWERED_HERE, PageKind.CONFIRMED_HERE)


def verdict(token_since: datetime, ticket: TicketNow, wait: Wait | None) -> Verdict:
    """What the page of a link made for the wait begun at ``token_since`` shows.

    An answer given on the page wins over everything (the ticket events it causes may
    still be on their way); then the form while that wait is current; then how it ended;
    a wait we have not heard of yet is pending (its event is on its way; the mail that
    carries the link may arrive first).
    """
    if wait is not None and wait.answered_at is not None:
        kind = PageKind.CONFIRMED_HERE if wait.answer == "yes" else PageKind.ANSWERED_HERE
        return Verdict(kind, wait.answered_at)
    current = (
        ticket.status == WAITING
        and ticket.waiting_since is not None
        and same_wait(ticket.waiting_since, token_since)
    )
    if wait is not None and wait.end is None and current:
        return Verdict(PageKind.OPEN)
    if wait is not None and wait.end is not None:
        return Verdict(PageKind(wait.end.value), wait.ended_at)
    if wait is None and (current or token_since > ticket.known_until):
        # The replica has not recorded this wait yet (its event is on its way).
        return Verdict(PageKind.PENDING)
    if ticket.status == WAITING and not current:
        return Verdict(PageKind.SUPERSEDED)
    return Verdict(PageKind.OVER)


def is_agent_comment(visibility: str, author_is_requester: bool, author_id: str) -> bool:
    """A public comment by a person of the desk (not the requester, not a service's note)."""
    return (
        visibility == "public" and not author_is_requester and not author_id.startswith("system:")
    )
