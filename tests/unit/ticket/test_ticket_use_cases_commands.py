"""What other services ask (``tickets.commands``), on the fake unit of work: resolve,
reopen, comment and open, including the commands the ticket's state makes ignore."""

from __future__ import annotations

import uuid

import pytest

from stopclock_shared.events.commands import (
    CommentCommand,
    OpenTicketCommand,
    ReopenCommand,
    ResolveCommand,
)
from stopclock_shared.events.types import EventType
from stopclock_shared.events.vocabulary import Channel, NoteKind, ResolveReason
from stopclock_ticket import use_cases
from stopclock_ticket.domain import REQUESTER_ANSWERED
from stopclock_ticket.records import TicketRecord

from .fakes import TicketUow, unit_of_work
from .givens import (
    IN_PROGRESS,
    LATER,
    NOW,
    REQUESTER,
    RESOLVED,
    WAITING,
    command_envelope,
    directory,
    moved,
    opened,
    payload,
)

CAUSE = command_envelope()


def resolve(ticket: TicketRecord, reason: str | None) -> ResolveCommand:
    return ResolveCommand(
        ticket_id=str(ticket["id"]), resolution="No answer in five days", reason=reason
    )


def ignored(uow: TicketUow) -> dict[str, str]:
    entry = uow.repo.history[-1]
    assert (entry["action"], entry["actor_id"], entry["internal"]) == (
        "command_ignored",
        "system",
        True,
    )
    changes: dict[str, str] = entry["changes"]
    return changes


# --- resolve ----------------------------------------------------------------------------


async def test_no_response_resolves_a_waiting_ticket_as_the_system() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS, WAITING)
    command = resolve(ticket, ResolveReason.NO_RESPONSE)
    resolved = await use_cases.resolve_by_command(uow, command, LATER, CAUSE)
    assert resolved is not None
    assert (resolved["status"], resolved["resolution_reason"]) == ("resolved", "no_response")
    (envelope,) = uow.envelopes(EventType.TICKET_STATUS_CHANGED)
    assert envelope.causationid == CAUSE.id
    data = envelope.data
    assert (data["actor_id"], data["reason"], data["resolution_reason"]) == (
        "system",
        "no_response",
        "no_response",
    )
    assert uow.repo.history[-1]["actor_id"] == "system"


async def test_no_response_leaves_a_ticket_the_requester_answered_meanwhile() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS)
    command = resolve(ticket, ResolveReason.NO_RESPONSE)
    assert await use_cases.resolve_by_command(uow, command, LATER, CAUSE) is None
    assert ignored(uow) == {"command": "resolve", "why": "requester answered meanwhile"}
    assert uow.emitted == []
    assert uow.repo.tickets[ticket["id"]]["status"] == "in_progress"


async def test_confirmed_by_requester_resolves_in_the_requesters_name() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS)
    command = resolve(ticket, ResolveReason.CONFIRMED_BY_REQUESTER)
    assert await use_cases.resolve_by_command(uow, command, LATER, CAUSE) is not None
    data = payload(uow, EventType.TICKET_STATUS_CHANGED)
    assert (data["actor_id"], data["actor_roles"]) == (REQUESTER, ["requester"])
    entry = uow.repo.history[-1]
    assert (entry["actor_id"], entry["changes"]["on_behalf_of"]) == ("system", REQUESTER)


async def test_a_resolve_the_lifecycle_refuses_is_noted_and_ignored() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)  # new: no shortcut to resolved
    assert await use_cases.resolve_by_command(uow, resolve(ticket, None), LATER, CAUSE) is None
    assert ignored(uow)["why"].startswith("cannot go from new to resolved")
    assert uow.emitted == []


async def test_a_command_for_an_unknown_ticket_is_a_lookup_error() -> None:
    uow = unit_of_work()
    ghost = uuid.uuid4()
    command = ResolveCommand(ticket_id=str(ghost), resolution="x")
    with pytest.raises(LookupError, match=f"ticket {ghost} does not exist"):
        await use_cases.resolve_by_command(uow, command, LATER, CAUSE)


# --- reopen -----------------------------------------------------------------------------


async def test_reopen_puts_a_resolved_ticket_back_in_progress_with_its_reason() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS, RESOLVED)
    command = ReopenCommand(ticket_id=str(ticket["id"]), reason="survey: not resolved")
    reopened = await use_cases.reopen_by_command(uow, command, LATER, CAUSE)
    assert reopened is not None
    assert reopened["status"] == "in_progress"
    data = payload(uow, EventType.TICKET_STATUS_CHANGED)
    assert (data["from_status"], data["note"], data["actor_id"]) == (
        "resolved",
        "survey: not resolved",
        "system",
    )


async def test_reopen_of_a_ticket_that_is_not_resolved_is_noted_and_ignored() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS)
    command = ReopenCommand(ticket_id=str(ticket["id"]), reason="survey")
    assert await use_cases.reopen_by_command(uow, command, LATER, CAUSE) is None
    assert ignored(uow)["command"] == "reopen"
    assert uow.emitted == []


# --- comment ----------------------------------------------------------------------------


def comment(ticket: TicketRecord, **more: object) -> CommentCommand:
    return CommentCommand.model_validate({"ticket_id": str(ticket["id"]), "body": " Yes "} | more)


async def test_the_requesters_mailed_answer_ends_the_wait() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS, WAITING)
    command = comment(ticket, author_id=REQUESTER, visibility="public", channel=Channel.EMAIL)
    stored = await use_cases.comment_by_command(uow, command, LATER, CAUSE)
    assert (stored["body"], stored["channel"], stored["author_id"]) == ("Yes", "email", REQUESTER)
    assert uow.types() == [EventType.TICKET_COMMENTED, EventType.TICKET_STATUS_CHANGED]
    assert payload(uow, EventType.TICKET_STATUS_CHANGED)["reason"] == REQUESTER_ANSWERED
    assert all(env.causationid == CAUSE.id for _, _, env in uow.emitted)


async def test_an_answer_after_a_resolution_for_lack_of_response_reopens() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS, WAITING)
    await use_cases.resolve_by_command(
        uow, resolve(ticket, ResolveReason.NO_RESPONSE), LATER, CAUSE
    )
    uow.emitted.clear()
    command = comment(ticket, author_id=REQUESTER, visibility="public", channel=Channel.PAGE)
    await use_cases.comment_by_command(uow, command, LATER, CAUSE)
    data = payload(uow, EventType.TICKET_STATUS_CHANGED)
    assert (data["from_status"], data["to_status"], data["reason"]) == (
        "resolved",
        "in_progress",
        REQUESTER_ANSWERED,
    )
    assert uow.repo.tickets[ticket["id"]]["resolution_reason"] is None


async def test_a_note_without_author_is_the_sending_services_and_answers_nothing() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS, WAITING)
    command = comment(ticket, note_kind=NoteKind.AUTO_REPLY, channel=Channel.EMAIL)
    stored = await use_cases.comment_by_command(uow, command, LATER, CAUSE)
    assert (stored["author_id"], stored["visibility"], stored["note_kind"]) == (
        f"system:{CAUSE.source}",
        "internal",
        "auto_reply",
    )
    assert uow.repo.history[-1]["changes"]["note_kind"] == "auto_reply"
    assert uow.types() == [EventType.TICKET_COMMENTED]


async def test_a_public_comment_by_someone_else_is_never_the_answer() -> None:
    uow = unit_of_work()
    ticket = await moved(uow, await opened(uow), IN_PROGRESS, WAITING)
    command = comment(ticket, author_id="bob", visibility="public", channel=Channel.EMAIL)
    await use_cases.comment_by_command(uow, command, LATER, CAUSE)
    assert uow.types() == [EventType.TICKET_COMMENTED]
    assert uow.repo.tickets[ticket["id"]]["status"] == "waiting_on_user"


async def test_a_blank_mailed_comment_gets_a_placeholder() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)
    stored = await use_cases.comment_by_command(uow, comment(ticket, body="  "), LATER, CAUSE)
    assert stored["body"] == "(no text)"


# --- open -------------------------------------------------------------------------------


def open_command(
    ticket_id: uuid.UUID, requester: str = REQUESTER, **more: object
) -> OpenTicketCommand:
    fields = {
        "ticket_id": str(ticket_id),
        "requester_id": requester,
        "title": "Printer jams",
        "description": "Floor 3.",
        "source_message_id": "<m1@example.com>",
    }
    return OpenTicketCommand.model_validate(fields | more)


async def test_a_mailed_ticket_opens_under_the_senders_id_once() -> None:
    uow = unit_of_work()
    await directory(uow)
    uow.emitted.clear()
    tid = uuid.uuid4()
    first = await use_cases.open_by_command(uow, open_command(tid), NOW, CAUSE)
    again = await use_cases.open_by_command(uow, open_command(tid), NOW, CAUSE)
    assert first is not None
    assert first["id"] == tid
    assert again is None
    assert uow.repo.locked == [tid, tid]
    assert uow.types() == [EventType.TICKET_CREATED]
    data = payload(uow, EventType.TICKET_CREATED)
    assert (data["channel"], data["source_message_id"]) == ("email", "<m1@example.com>")
    entry = uow.repo.history[0]
    assert (entry["actor_id"], entry["changes"]["via"]) == (REQUESTER, CAUSE.source)


async def test_an_open_reusing_another_requesters_ticket_id_is_refused() -> None:
    uow = unit_of_work()
    ticket = await opened(uow)
    with pytest.raises(ValueError, match="already exists for requester"):
        await use_cases.open_by_command(uow, open_command(ticket["id"], "bob"), NOW, CAUSE)


async def test_an_open_for_an_unknown_requester_is_an_error_of_the_message() -> None:
    uow = unit_of_work()
    with pytest.raises(use_cases.UnknownRequester, match="Unknown person 'stranger'"):
        await use_cases.open_by_command(uow, open_command(uuid.uuid4(), "stranger"), NOW, CAUSE)
    assert uow.emitted == []


async def test_a_mailed_ticket_with_blank_subject_gets_a_placeholder_title() -> None:
    uow = unit_of_work()
    await directory(uow)
    command = open_command(uuid.uuid4(), title="  ", type="service_request")
    ticket = await use_cases.open_by_command(uow, command, NOW, CAUSE)
    assert ticket is not None
    assert (ticket["title"], ticket["number"]) == ("(no subject)", "REQ0000001")
