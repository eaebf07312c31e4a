"""Comments and history on the fake unit of work: who may write what, who sees what, and
the requester's public comment as their answer."""

from __future__ import annotations

import pytest

from stopclock_shared.errors import Forbidden
from stopclock_shared.events.types import EventType
from stopclock_ticket import use_cases
from stopclock_ticket.domain import REQUESTER_ANSWERED, Visibility
from stopclock_ticket.schemas import CommentIn

from .fakes import unit_of_work
from .givens import (
    AGENT,
    ALICE,
    BOB,
    IN_PROGRESS,
    LATER,
    NOW,
    REQUESTER,
    RESOLVED,
    WAITING,
    moved,
    opened,
    payload,
)

PUBLIC = CommentIn(body="It is the Paris office.", visibility=Visibility.PUBLIC)
INTERNAL = CommentIn(body="Probably the new firewall rule.", visibility=Visibility.INTERNAL)


async def test_a_comment_is_stored_recorded_and_announced() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)
    comment = await use_cases.add_comment(uow, AGENT, ticket["id"], PUBLIC, LATER)
    assert (comment["author_id"], comment["channel"], comment["note_kind"]) == (
        AGENT.sub,
        "api",
        None,
    )
    assert uow.repo.tickets[ticket["id"]]["version"] == 2  # the ticket's updated_at moved
    entry = uow.repo.history[-1]
    assert (entry["action"], entry["internal"], entry["changes"]["comment_id"]) == (
        "commented",
        False,
        str(comment["id"]),
    )
    said = payload(uow, EventType.TICKET_COMMENTED)["comment"]
    assert (said["body"], said["author_is_requester"], said["created_at"]) == (
        PUBLIC.body,
        False,
        LATER.isoformat(),
    )


async def test_the_requesters_public_comment_ends_the_wait() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS, WAITING)
    await use_cases.add_comment(uow, ALICE, ticket["id"], PUBLIC, LATER)
    assert uow.types() == [EventType.TICKET_COMMENTED, EventType.TICKET_STATUS_CHANGED]
    answered = payload(uow, EventType.TICKET_STATUS_CHANGED)
    assert (answered["from_status"], answered["to_status"], answered["reason"]) == (
        "waiting_on_user",
        "in_progress",
        REQUESTER_ANSWERED,
    )
    assert answered["actor_id"] == REQUESTER
    stored = uow.repo.tickets[ticket["id"]]
    assert (stored["status"], stored["waiting_since"]) == ("in_progress", None)


async def test_the_desks_comment_on_a_waiting_ticket_leaves_it_waiting() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS, WAITING)
    await use_cases.add_comment(uow, AGENT, ticket["id"], PUBLIC, LATER)
    assert uow.types() == [EventType.TICKET_COMMENTED]
    assert uow.repo.tickets[ticket["id"]]["status"] == "waiting_on_user"


async def test_an_internal_note_is_hidden_from_the_requester() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)
    await use_cases.add_comment(uow, AGENT, ticket["id"], INTERNAL, NOW)
    await use_cases.add_comment(uow, ALICE, ticket["id"], PUBLIC, LATER)
    assert uow.repo.history[-2]["internal"] is True
    for_desk = await use_cases.list_comments(uow, AGENT, ticket["id"], 50, None)
    for_requester = await use_cases.list_comments(uow, ALICE, ticket["id"], 50, None)
    assert [c["visibility"] for c in for_desk] == ["internal", "public"]
    assert [c["visibility"] for c in for_requester] == ["public"]
    desk_history = await use_cases.list_history(uow, AGENT, ticket["id"])
    requester_history = await use_cases.list_history(uow, ALICE, ticket["id"])
    assert [h["action"] for h in desk_history] == ["created", "commented", "commented"]
    assert [h["action"] for h in requester_history] == ["created", "commented"]


async def test_a_requester_writes_public_comments_on_their_own_ticket_only() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)
    with pytest.raises(Forbidden):
        await use_cases.add_comment(uow, ALICE, ticket["id"], INTERNAL, LATER)
    with pytest.raises(Forbidden):
        await use_cases.add_comment(uow, BOB, ticket["id"], PUBLIC, LATER)
    with pytest.raises(Forbidden):
        await use_cases.list_comments(uow, BOB, ticket["id"], 50, None)
    assert (uow.repo.comments, uow.emitted) == ([], [])


async def test_a_requesters_comment_after_an_ordinary_resolution_does_not_reopen() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS, RESOLVED)
    await use_cases.add_comment(uow, ALICE, ticket["id"], PUBLIC, LATER)
    assert uow.types() == [EventType.TICKET_COMMENTED]
    assert uow.repo.tickets[ticket["id"]]["status"] == "resolved"


async def test_comments_come_in_pages() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)
    for _ in range(3):
        await use_cases.add_comment(uow, AGENT, ticket["id"], PUBLIC, LATER)
    first = await use_cases.list_comments(uow, AGENT, ticket["id"], 2, None)
    assert len(first) == 3  # limit + 1: the extra one says there is more
    last = first[1]
    rest = await use_cases.list_comments(
        uow, AGENT, ticket["id"], 2, (last["created_at"], last["id"])
    )
    assert [c["id"] for c in rest] == [first[2]["id"]]
