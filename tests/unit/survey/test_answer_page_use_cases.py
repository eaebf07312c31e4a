"""The answer pages' use cases on the fake unit of work: the replica of the waits follows
the ticket's events; a link's page and its one answer."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from stopclock_shared.events.commands import CommentCommand, ResolveCommand
from stopclock_shared.events.tickets import (
    TicketCommented,
    TicketCreated,
    TicketStatusChanged,
    TicketUpdated,
)
from stopclock_shared.events.topics import TICKETS_COMMANDS
from stopclock_shared.events.types import EventType
from stopclock_shared.links import AnswerRef
from stopclock_shared.testing.fakes import FakeUnitOfWork
from stopclock_survey.domain.errors import InvalidAnswer, UnknownLink, WaitClosed
from stopclock_survey.domain.waits import PageKind, Wait, WaitEnd
from stopclock_survey.use_cases import waits

from .fakes import RESOLVED_AT, FakeSurveyRepository, fake_uow, snapshot

TICKET = uuid.uuid4()
OPENED = RESOLVED_AT - timedelta(hours=5)
ASKED = RESOLVED_AT - timedelta(hours=3)
LATER = ASKED + timedelta(hours=1)
Uow = FakeUnitOfWork[FakeSurveyRepository]


def ticket(version: int, status: str = "in_progress", **fields: Any) -> dict[str, Any]:
    updated = OPENED + timedelta(minutes=version)
    return snapshot(
        TICKET, status=status, version=version, updated_at=updated.isoformat(), **fields
    )


def moved(version: int, from_status: str, to_status: str, **fields: Any) -> TicketStatusChanged:
    waiting = to_status == "waiting_on_user"
    snap = ticket(
        version,
        to_status,
        waiting_since=ASKED.isoformat() if waiting else None,
        waiting_reason=fields.get("reason") if waiting else None,
    )
    return TicketStatusChanged.model_validate(
        {"ticket": snap, "from_status": from_status, "to_status": to_status, **fields}
    )


def commented(version: int, status: str, body: str, **comment: Any) -> TicketCommented:
    waiting = status == "waiting_on_user"
    snap = ticket(version, status, waiting_since=ASKED.isoformat() if waiting else None)
    data = {
        "id": str(uuid.uuid4()),
        "body": body,
        "visibility": "public",
        "author_id": "marie",
        "author_is_requester": False,
        "created_at": OPENED.isoformat(),
        **comment,
    }
    return TicketCommented.model_validate({"ticket": snap, "comment": data})


async def waiting(uow: Uow, reason: str = "user_validation", note: str | None = "Works?") -> None:
    """The ticket opened, taken, and now waiting on its requester since ``ASKED``."""
    await waits.track_ticket(
        uow, TicketCreated.model_validate({"ticket": ticket(1, "new")}), OPENED
    )
    await waits.track_ticket(uow, moved(2, "new", "in_progress"), OPENED)
    await waits.track_ticket(
        uow, moved(3, "in_progress", "waiting_on_user", reason=reason, note=note), ASKED
    )


REF = AnswerRef(TICKET, ASKED)


async def test_a_wait_begins_with_the_note_as_its_question() -> None:
    uow = fake_uow()
    await waiting(uow)
    assert uow.repo.waits == {(TICKET, ASKED): Wait(ASKED, "user_validation", "Works?")}
    known = uow.repo.tickets[TICKET]
    assert (known.status, known.waiting_since, known.waiting_reason) == (
        "waiting_on_user",
        ASKED,
        "user_validation",
    )
    assert (known.number, known.locale, known.assignee_name) == ("INC0000042", "fr", "Marie Curie")


async def test_without_a_note_the_question_is_the_agents_last_public_comment() -> None:
    uow = fake_uow()
    await waits.track_ticket(uow, moved(1, "new", "in_progress"), OPENED)
    await waits.track_ticket(uow, commented(2, "in_progress", "Is it the T14?"), OPENED)
    await waits.track_ticket(
        uow, moved(3, "in_progress", "waiting_on_user", reason="info_requested"), ASKED
    )
    assert uow.repo.waits[(TICKET, ASKED)].question == "Is it the T14?"
    assert uow.repo.tickets[TICKET].agent_comment is None  # it became the question


async def test_an_agents_comment_during_a_wait_without_question_becomes_its_question() -> None:
    uow = fake_uow()
    await waiting(uow, reason="user_response", note=None)
    await waits.track_ticket(uow, commented(4, "waiting_on_user", "Any news?"), LATER)
    await waits.track_ticket(uow, commented(5, "waiting_on_user", "Second thought"), LATER)
    assert uow.repo.waits[(TICKET, ASKED)].question == "Any news?"


@pytest.mark.parametrize(
    ("comment", "kept"),
    [
        ({"author_id": "alice", "author_is_requester": True}, None),
        ({"visibility": "internal"}, "Try a reboot"),
        ({"author_id": "system:stopclock/escalation"}, "Try a reboot"),
    ],
)
async def test_only_the_requesters_public_answer_clears_the_agents_last_comment(
    comment: dict[str, Any], kept: str | None
) -> None:
    uow = fake_uow()
    await waits.track_ticket(uow, commented(1, "in_progress", "Try a reboot"), OPENED)
    await waits.track_ticket(uow, commented(2, "in_progress", "Something", **comment), OPENED)
    assert uow.repo.tickets[TICKET].agent_comment == kept


@pytest.mark.parametrize(
    ("to_status", "fields", "end"),
    [
        ("in_progress", {"reason": "requester_answered"}, WaitEnd.ANSWERED),
        ("in_progress", {}, WaitEnd.RESUMED),
        ("resolved", {"resolution_reason": "no_response"}, WaitEnd.NO_RESPONSE),
        ("resolved", {"reason": "confirmed_by_requester"}, WaitEnd.CONFIRMED),
        ("cancelled", {}, WaitEnd.CANCELLED),
    ],
)
async def test_the_change_that_ends_a_wait_says_how(
    to_status: str, fields: dict[str, Any], end: WaitEnd
) -> None:
    uow = fake_uow()
    await waiting(uow)
    await waits.track_ticket(uow, moved(4, "waiting_on_user", to_status, **fields), LATER)
    wait = uow.repo.waits[(TICKET, ASKED)]
    assert (wait.end, wait.ended_at) == (end, LATER)
    assert uow.repo.tickets[TICKET].waiting_since is None


async def test_an_older_event_delivered_again_changes_nothing() -> None:
    uow = fake_uow()
    await waiting(uow)
    before = (dict(uow.repo.tickets), dict(uow.repo.waits))
    await waits.track_ticket(uow, moved(2, "new", "in_progress"), LATER)
    assert (uow.repo.tickets, uow.repo.waits) == before


async def test_a_ticket_first_seen_waiting_gets_its_wait() -> None:
    uow = fake_uow()
    snap = ticket(
        7, "waiting_on_user", waiting_since=ASKED.isoformat(), waiting_reason="info_requested"
    )
    update = TicketUpdated.model_validate({"ticket": snap, "changes": {"title": ["a", "b"]}})
    await waits.track_ticket(uow, update, LATER)
    assert uow.repo.waits == {(TICKET, ASKED): Wait(ASKED, "info_requested", None)}


async def test_an_unknown_ticket_has_no_page() -> None:
    with pytest.raises(UnknownLink):
        await waits.answer_page(fake_uow(), REF)


async def test_the_page_of_the_current_wait_shows_the_form_and_to_answer_locks_it() -> None:
    uow = fake_uow()
    await waiting(uow)
    page = await waits.answer_page(uow, REF)
    assert page.verdict.open
    assert page.wait == Wait(ASKED, "user_validation", "Works?")
    locked = await waits.answer_page(uow, REF, for_update=True)
    assert locked == page
    assert uow.repo.locked == [f"{TICKET}@{ASKED.isoformat()}"]


async def test_yes_comments_then_resolves_confirmed_by_the_requester() -> None:
    uow = fake_uow()
    await waiting(uow)
    page = await waits.answer_page(uow, REF, for_update=True)
    reply = await waits.answer_wait(uow, page, answer="yes", comment=" Thanks! ", now=LATER)
    assert reply.resolve
    assert [(topic, key) for topic, key, _ in uow.emitted] == [(TICKETS_COMMANDS, str(TICKET))] * 2
    assert uow.types() == [EventType.COMMAND_COMMENT, EventType.COMMAND_RESOLVE]
    said = CommentCommand.model_validate(uow.emitted[0][2].data)
    assert (said.body, said.author_id, said.visibility, said.channel) == (
        "Yes, it works.\n\nThanks!",
        "alice",
        "public",
        "page",
    )
    resolve = ResolveCommand.model_validate(uow.emitted[1][2].data)
    assert resolve.reason == "confirmed_by_requester"
    wait = uow.repo.waits[(TICKET, ASKED)]
    assert (wait.answered_at, wait.answer) == (LATER, "yes")
    assert uow.repo.answers[(TICKET, ASKED)] == "Thanks!"


async def test_a_written_answer_to_a_question_is_only_a_comment() -> None:
    uow = fake_uow()
    await waiting(uow, reason="info_requested")
    page = await waits.answer_page(uow, REF, for_update=True)
    reply = await waits.answer_wait(uow, page, answer="yes", comment="A T14.", now=LATER)
    assert not reply.resolve
    assert uow.types() == [EventType.COMMAND_COMMENT]
    assert uow.repo.waits[(TICKET, ASKED)].answer is None  # a choice only counts on validation


async def test_an_incomplete_answer_sends_and_records_nothing() -> None:
    uow = fake_uow()
    await waiting(uow)
    page = await waits.answer_page(uow, REF, for_update=True)
    with pytest.raises(InvalidAnswer) as refused:
        await waits.answer_wait(uow, page, answer=None, comment="", now=LATER)
    assert [e.field for e in refused.value.errors] == ["answer"]
    assert uow.emitted == []
    assert uow.repo.waits[(TICKET, ASKED)].answered_at is None


@pytest.mark.parametrize(
    ("then", "kind"),
    [
        ("answered here", PageKind.CONFIRMED_HERE),
        ("resumed", PageKind.RESUMED),
        ("never seen", PageKind.PENDING),
    ],
)
async def test_a_wait_that_takes_no_answer_is_refused_with_why(then: str, kind: PageKind) -> None:
    uow = fake_uow()
    if then == "never seen":
        await waits.track_ticket(uow, moved(2, "new", "in_progress"), OPENED)
        ref = AnswerRef(TICKET, datetime.now(ASKED.tzinfo))
    else:
        await waiting(uow)
        ref = REF
        if then == "answered here":
            page = await waits.answer_page(uow, ref, for_update=True)
            await waits.answer_wait(uow, page, answer="yes", comment="", now=LATER)
        else:
            await waits.track_ticket(uow, moved(4, "waiting_on_user", "in_progress"), LATER)
    sent = list(uow.emitted)
    page = await waits.answer_page(uow, ref, for_update=True)
    with pytest.raises(WaitClosed) as refused:
        await waits.answer_wait(uow, page, answer="no", comment="", now=LATER)
    assert refused.value.verdict.kind is kind
    assert uow.emitted == sent
