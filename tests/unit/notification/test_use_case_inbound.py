"""Taking in a mail to the desk (`use_cases.inbound.take_in`) on fakes: each outcome, what is
recorded and which ticket commands it emits, copies and the rate limit."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from stopclock_notification.domain import MailKind, PlannedMail
from stopclock_notification.domain.inbound_decision import Outcome
from stopclock_notification.repository import NewMail, StoredMail, TicketReplica
from stopclock_notification.use_cases.inbound import InboundDesk, Received, Status, take_in
from stopclock_shared.events.topics import TICKETS_COMMANDS
from stopclock_shared.events.types import EventType as T
from stopclock_shared.links import link_key, reply_address

from .fakes import FakeUow, new_uow, stored_of
from .inbound.mails import raw as saved_mail

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
DESK_ADDRESS = "servicedesk@stopclock.local"
KEY = link_key("intake-unit-test")
DESK = InboundDesk(
    address=DESK_ADDRESS,
    link_key=KEY,
    rate_per_hour=3,
    keep_raw_bytes=1024,
    message_id_domain="stopclock.local",
)
TICKET_ID = str(uuid.uuid4())
REQUESTER = "ada@example.test"


def desk_uow() -> FakeUow:
    uow = new_uow()
    uow.repo.tickets[TICKET_ID] = TicketReplica(
        ticket_id=TICKET_ID,
        number="INC0000042",
        requester_id="ada",
        requester_email="Ada@Example.test",
        requester_locale="en",
        status="waiting_on_user",
        waiting_reason="info_requested",
        version=2,
    )
    return uow


def our_mail(message_id: str) -> StoredMail:
    """A mail we sent about the ticket, with ``message_id``."""
    planned = PlannedMail(
        kind=MailKind.TICKET_OPENED,
        recipient_email="j.doe@corp.example.org",
        recipient_id=None,
        locale="en",
        timezone="UTC",
        ticket_id=TICKET_ID,
        event_id="e-1",
        context={},
    )
    new = NewMail(planned, "s", "e-1", T.TICKET_CREATED, T0, "c", T0)
    return replace(stored_of(new), message_id=message_id, status="sent")


def mail(
    sender: str = REQUESTER,
    to: str | None = None,
    text: str = "Floor 3",
    subject: str = "Re: [INC0000042] Question",
    **headers: str,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to or reply_address(KEY, DESK_ADDRESS, uuid.UUID(TICKET_ID), REQUESTER)
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4()}@client.test>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    return msg.as_bytes()


async def test_the_requesters_reply_becomes_a_public_comment_on_its_ticket() -> None:
    uow = desk_uow()

    taken = await take_in(uow, DESK, Received(mail()), T0)

    assert (taken.status, taken.outcome, taken.ticket_id) == (
        Status.ACCEPTED,
        Outcome.COMMENT,
        TICKET_ID,
    )
    [(topic, key, envelope)] = uow.emitted
    assert (topic, key, envelope.type) == (TICKETS_COMMANDS, TICKET_ID, T.COMMAND_COMMENT)
    assert envelope.data["body"] == "Floor 3"
    assert (envelope.data["visibility"], envelope.data["author_id"]) == ("public", "ada")
    assert envelope.correlationid == str(taken.inbound_id)
    [record] = uow.repo.inbound
    assert (record.outcome, record.ticket_id, record.refused) == ("comment", TICKET_ID, False)
    assert record.raw is not None


async def test_someone_else_on_the_thread_adds_an_internal_comment() -> None:
    uow = desk_uow()

    taken = await take_in(uow, DESK, Received(mail(sender="colleague@example.test")), T0)

    assert taken.outcome is Outcome.INTERNAL_COMMENT
    [(_, _, envelope)] = uow.emitted
    assert envelope.data["visibility"] == "internal"


async def test_a_person_of_the_directory_writing_to_the_desk_opens_a_ticket() -> None:
    uow = desk_uow()
    await uow.repo.upsert_person("bob", "Bob@Example.test", "Bob", T0)

    raw = mail(sender="bob@example.test", to=DESK_ADDRESS, subject="Printer", text="Jams")
    taken = await take_in(uow, DESK, Received(raw), T0)

    assert taken.outcome is Outcome.NEW_TICKET
    [(_, key, envelope)] = uow.emitted
    assert envelope.type == T.COMMAND_OPEN
    assert key == taken.ticket_id == envelope.data["ticket_id"]
    assert (envelope.data["requester_id"], envelope.data["title"]) == ("bob", "Printer")


async def test_a_stranger_writing_to_the_desk_is_rejected_without_commands() -> None:
    uow = desk_uow()

    raw = mail(sender="eve@example.test", to=DESK_ADDRESS, subject="Hello")
    taken = await take_in(uow, DESK, Received(raw), T0)

    assert (taken.status, taken.outcome) == (Status.ACCEPTED, Outcome.REJECTED)
    assert uow.emitted == []


async def test_an_out_of_office_answer_is_recorded_as_an_auto_reply() -> None:
    uow = desk_uow()

    raw = mail(Auto_Submitted="auto-replied", subject="Out of office: [INC0000042] Question")
    taken = await take_in(uow, DESK, Received(raw), T0)

    assert taken.outcome is Outcome.AUTO_REPLY
    assert [r.outcome for r in uow.repo.inbound] == ["auto_reply"]


async def test_a_bounce_of_our_mail_marks_it_and_notes_the_ticket() -> None:
    uow = desk_uow()
    message_id = "<0718293a4b5c6d7e8f90a1b2c3d4e5f60718293a@stopclock.local>"
    ours = our_mail(message_id)
    uow.repo.mails[ours.dedupe_key] = ours

    taken = await take_in(uow, DESK, Received(saved_mail("dsn_postfix_en")), T0)

    assert (taken.outcome, taken.ticket_id) == (Outcome.BOUNCE, TICKET_ID)
    assert uow.repo.mails[ours.dedupe_key].status == "bounced"
    [(_, key, envelope)] = uow.emitted
    assert (key, envelope.data["visibility"]) == (TICKET_ID, "internal")


async def test_mail_from_the_desks_own_address_is_rejected_as_a_loop() -> None:
    uow = desk_uow()

    taken = await take_in(uow, DESK, Received(mail(sender=DESK_ADDRESS)), T0)

    assert taken.outcome is Outcome.REJECTED
    assert "loop" in taken.detail
    assert uow.emitted == []


async def test_malformed_mail_is_recorded_rejected() -> None:
    uow = desk_uow()

    taken = await take_in(uow, DESK, Received(b"\x00\xff not a mail at all"), T0)

    assert (taken.status, taken.outcome) == (Status.ACCEPTED, Outcome.REJECTED)
    assert taken.detail.startswith("malformed mail")
    assert uow.emitted == []


async def test_a_copy_of_a_mail_is_acted_on_once() -> None:
    uow, raw = desk_uow(), mail()

    first = await take_in(uow, DESK, Received(raw), T0)
    again = await take_in(uow, DESK, Received(raw), T0 + timedelta(minutes=5))

    assert (first.status, again.status) == (Status.ACCEPTED, Status.DUPLICATE)
    assert len(uow.emitted) == 1
    assert len(uow.repo.inbound) == 1


async def test_a_sender_over_the_hourly_limit_is_refused_until_the_window_moves_on() -> None:
    uow = desk_uow()
    for minute in range(3):
        assert (await take_in(uow, DESK, Received(mail()), T0 + timedelta(minutes=minute))).status

    one_more = mail(text="one too many")
    refused = await take_in(uow, DESK, Received(one_more), T0 + timedelta(minutes=10))
    later = await take_in(uow, DESK, Received(one_more), T0 + timedelta(minutes=61))

    assert (refused.status, refused.outcome) == (Status.RATE_LIMITED, Outcome.REJECTED)
    assert "rate limit" in refused.detail
    assert later.status is Status.ACCEPTED
    assert [r.refused for r in uow.repo.inbound] == [False, False, False, True, False]
    assert len(uow.emitted) == 4
