"""What a mail to the desk does: threading order, who may answer, auto-replies, bounces,
new tickets, loops (stopclock_notification.domain.inbound_decision)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stopclock_notification.domain.inbound import Attachment, Bounce, InboundMail
from stopclock_notification.domain.inbound_decision import (
    NO_SUBJECT,
    NO_TEXT,
    TEXT_MAX,
    TITLE_MAX,
    Outcome,
    Person,
    SentMail,
    Thread,
    TicketRef,
    addressed_to_desk,
    at_desk_domain,
    decide,
    decide_bounce,
    is_our_own,
    reply_ticket_ids,
    text_of,
    thread_of,
    ticket_ids_of_references,
    title_of,
)
from stopclock_shared.events.commands import CommentCommand, OpenTicketCommand
from stopclock_shared.events.vocabulary import Channel, NoteKind
from stopclock_shared.links import link_key, reply_address

DESK = "servicedesk@stopclock.local"
KEY = link_key("unit-test-secret")
NEW_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
TICKET = TicketRef(
    ticket_id=str(uuid.UUID("11111111-1111-4111-8111-111111111111")),
    number="INC0000123",
    requester_id="ada",
    requester_email="Ada@Example.test",
    status="waiting_on_user",
    waiting_reason="info_requested",
)
OTHER = TicketRef(
    ticket_id=str(uuid.uuid4()),
    number="INC0000999",
    requester_id="bob",
    requester_email="bob@example.test",
    status="in_progress",
)
ADA = Person("ada", "ada@example.test", "Ada Lovelace")


def mail(**fields: object) -> InboundMail:
    base = InboundMail(
        message_id="<m1@client.example.test>",
        sender="ada@example.test",
        sender_name="Ada Lovelace",
        recipients=(DESK,),
        subject="Re: [INC0000123] We need more information",
        in_reply_to=(),
        new_text="The printer is on floor 3.",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def only_command(decision_commands: tuple[object, ...]) -> object:
    assert len(decision_commands) == 1
    return decision_commands[0]


# -- loops and addresses ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sender", "own"),
    [
        ("servicedesk@stopclock.local", True),
        ("ServiceDesk@STOPCLOCK.local", True),
        ("servicedesk+abcdef@stopclock.local", True),
        ("servicedesk@other.test", False),
        ("helpdesk@stopclock.local", False),
        ("ada@example.test", False),
    ],
)
def test_mail_from_the_desk_or_its_reply_addresses_is_our_own(sender: str, own: bool) -> None:
    assert is_our_own(sender, DESK) is own


@pytest.mark.parametrize(
    ("address", "ours"),
    [
        ("servicedesk@stopclock.local", True),
        ("servicedesk+tag@STOPCLOCK.LOCAL", True),
        ("anyone@stopclock.local", True),
        ("servicedesk@evil.test", False),
        ("@stopclock.local", False),
    ],
)
def test_the_receiver_accepts_only_the_desk_domain(address: str, ours: bool) -> None:
    assert at_desk_domain(address, DESK) is ours


def test_only_the_plain_desk_address_counts_as_written_to_the_desk() -> None:
    assert addressed_to_desk(["ada@example.test", "SERVICEDESK@stopclock.local"], DESK)
    assert not addressed_to_desk(["servicedesk+tag@stopclock.local"], DESK)


def test_a_signed_reply_address_names_its_ticket_and_a_forged_one_nothing() -> None:
    ticket_id = uuid.UUID(TICKET.ticket_id)
    good = reply_address(KEY, DESK, ticket_id, "ada@example.test")
    forged = reply_address(link_key("another secret"), DESK, ticket_id, "ada@example.test")
    assert reply_ticket_ids(KEY, DESK, [good.upper(), good]) == [ticket_id]
    assert reply_ticket_ids(KEY, DESK, [forged, DESK, "ada@example.test"]) == []


# -- threading order --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("by_reply", "by_reference", "by_number", "sender", "expected", "by"),
    [
        (TICKET, OTHER, [OTHER], "ada@example.test", TICKET, "reply address"),
        (None, OTHER, [TICKET], "ada@example.test", OTHER, "In-Reply-To/References"),
        (None, None, [TICKET], "ada@example.test", TICKET, "subject number INC0000123"),
        (None, None, [TICKET], "ADA@example.TEST", TICKET, "subject number INC0000123"),
        # A number alone threads only the requester's own mail: numbers are guessable.
        (None, None, [TICKET], "mallory@example.test", None, None),
        (None, None, [OTHER, TICKET], "ada@example.test", TICKET, "subject number INC0000123"),
        (None, None, [], "ada@example.test", None, None),
    ],
)
def test_threading_takes_the_first_rule_that_names_a_ticket(
    by_reply: TicketRef | None,
    by_reference: TicketRef | None,
    by_number: list[TicketRef],
    sender: str,
    expected: TicketRef | None,
    by: str | None,
) -> None:
    thread = thread_of(mail(sender=sender.lower()), by_reply, by_reference, by_number)
    if expected is None:
        assert thread is None
    else:
        assert thread == Thread(expected, by or "")


# -- who may answer ---------------------------------------------------------------------------
def test_the_requesters_reply_is_their_public_comment_by_email() -> None:
    decision = decide(
        mail(),
        Thread(TICKET, "reply address"),
        sender_person=ADA,
        to_desk=False,
        new_ticket_id=NEW_ID,
    )
    assert decision.outcome is Outcome.COMMENT
    assert decision.ticket_id == TICKET.ticket_id
    assert only_command(decision.commands) == CommentCommand(
        ticket_id=TICKET.ticket_id,
        body="The printer is on floor 3.",
        visibility="public",
        author_id="ada",
        channel=Channel.EMAIL,
    )


def test_anyone_elses_reply_is_an_internal_note_that_changes_nothing() -> None:
    stranger = mail(sender="mallory@example.test", sender_name="Mallory")
    decision = decide(
        stranger,
        Thread(TICKET, "reply address"),
        sender_person=None,
        to_desk=True,
        new_ticket_id=NEW_ID,
    )
    assert decision.outcome is Outcome.INTERNAL_COMMENT
    command = only_command(decision.commands)
    assert isinstance(command, CommentCommand)
    assert command.visibility == "internal"
    assert command.author_id is None
    assert command.note_kind is NoteKind.UNVERIFIED_SENDER
    assert command.body.startswith("Mail from unverified sender Mallory <mallory@example.test>")
    assert "The printer is on floor 3." in command.body


def test_attachments_are_listed_with_their_sizes_not_stored() -> None:
    with_files = mail(
        attachments=(
            Attachment("report.pdf", 12 * 1024, "application/pdf"),
            Attachment("", 300, "image/png"),
            Attachment("logo.png", 4096, "image/png", inline=True),
        )
    )
    body = text_of(with_files)
    assert body.startswith("The printer is on floor 3.\n\n")
    # the signature logo shown in the body is no attachment of theirs
    assert body.endswith("Attachments (not stored): report.pdf (12 KB), unnamed (300 B)")


def test_an_empty_reply_still_has_a_body() -> None:
    assert text_of(mail(new_text="   ")) == NO_TEXT


@given(st.text(max_size=TEXT_MAX + 500))
def test_a_comment_body_is_never_empty_nor_longer_than_the_ticket_api_takes(text: str) -> None:
    body = text_of(mail(new_text=text))
    assert 0 < len(body) <= TEXT_MAX


# -- automatic replies ------------------------------------------------------------------------
def test_the_requesters_away_message_is_an_auto_reply_note_never_an_answer() -> None:
    away = mail(
        auto_reply="Auto-Submitted: auto-replied",
        out_of_office=True,
        new_text="I am away until Monday.",
    )
    decision = decide(
        away,
        Thread(TICKET, "reply address"),
        sender_person=ADA,
        to_desk=False,
        new_ticket_id=NEW_ID,
    )
    assert decision.outcome is Outcome.AUTO_REPLY
    command = only_command(decision.commands)
    assert isinstance(command, CommentCommand)
    assert (command.visibility, command.note_kind) == ("internal", NoteKind.AUTO_REPLY)
    assert "I am away until Monday." in command.body


def test_someone_elses_away_message_does_not_mark_the_requester_away() -> None:
    away = mail(sender="bob@example.test", auto_reply="X-Autoreply", out_of_office=True)
    decision = decide(
        away,
        Thread(TICKET, "reply address"),
        sender_person=None,
        to_desk=False,
        new_ticket_id=NEW_ID,
    )
    command = only_command(decision.commands)
    assert isinstance(command, CommentCommand)
    assert command.note_kind is NoteKind.UNVERIFIED_SENDER


@pytest.mark.parametrize(
    "why", ["read receipt", "Precedence: list", "delivery status notification (delayed)"]
)
def test_automatic_mail_that_is_no_absence_is_recorded_without_a_note(why: str) -> None:
    decision = decide(
        mail(auto_reply=why, out_of_office=False),
        Thread(TICKET, "reply address"),
        sender_person=ADA,
        to_desk=False,
        new_ticket_id=NEW_ID,
    )
    assert decision.outcome is Outcome.AUTO_REPLY
    assert decision.ticket_id == TICKET.ticket_id
    assert decision.commands == ()


def test_an_unthreaded_auto_reply_never_opens_a_ticket() -> None:
    decision = decide(
        mail(auto_reply="Precedence: bulk"),
        None,
        sender_person=ADA,
        to_desk=True,
        new_ticket_id=NEW_ID,
    )
    assert decision.outcome is Outcome.AUTO_REPLY
    assert decision.commands == ()


# -- new tickets and unknown senders ----------------------------------------------------------
def test_a_known_person_writing_to_the_desk_opens_an_incident() -> None:
    fresh = mail(subject="RE: Fwd: VPN drops every 5 minutes", new_text="Since this morning.")
    decision = decide(fresh, None, sender_person=ADA, to_desk=True, new_ticket_id=NEW_ID)
    assert decision.outcome is Outcome.NEW_TICKET
    assert decision.ticket_id == str(NEW_ID)
    assert only_command(decision.commands) == OpenTicketCommand(
        ticket_id=str(NEW_ID),
        requester_id="ada",
        title="VPN drops every 5 minutes",
        description="Since this morning.",
        channel=Channel.EMAIL,
        source_message_id="<m1@client.example.test>",
    )


@pytest.mark.parametrize(
    ("person", "to_desk", "detail"),
    [
        (None, True, "unknown sender: not in the directory"),
        (ADA, False, "no ticket reference and not sent to the desk address"),
    ],
)
def test_mail_that_threads_nowhere_and_opens_nothing_is_rejected_silently(
    person: Person | None, to_desk: bool, detail: str
) -> None:
    decision = decide(mail(), None, sender_person=person, to_desk=to_desk, new_ticket_id=NEW_ID)
    assert (decision.outcome, decision.detail, decision.commands) == (Outcome.REJECTED, detail, ())


@pytest.mark.parametrize(
    ("subject", "title"),
    [
        ("Re: Printer", "Printer"),
        ("TR: RE: Imprimante", "Imprimante"),
        ("Fwd:   spaced   out  ", "spaced out"),
        ("AW: Drucker", "Drucker"),
        ("Re[2]: numbered", "numbered"),
        ("Rebooting fails", "Rebooting fails"),
        ("", NO_SUBJECT),
        ("Re: ", NO_SUBJECT),
    ],
)
def test_a_title_drops_reply_and_forward_prefixes(subject: str, title: str) -> None:
    assert title_of(subject) == title


@given(st.text(max_size=1000))
def test_a_title_is_never_empty_nor_longer_than_the_ticket_api_takes(subject: str) -> None:
    assert 0 < len(title_of(subject)) <= TITLE_MAX


# -- bounces ----------------------------------------------------------------------------------
BOUNCE = Bounce(
    original_message_id="<ours@stopclock.local>",
    recipient="ada@example.test",
    status="5.1.1",
    reason="user unknown",
)


def test_a_bounce_marks_our_mail_and_tells_the_agent_on_its_ticket() -> None:
    dsn = mail(sender="mailer-daemon@mx.example.test", bounce=BOUNCE)
    sent = SentMail("<ours@stopclock.local>", TICKET.ticket_id, "ada@example.test")
    decision = decide_bounce(dsn, sent)
    assert decision.outcome is Outcome.BOUNCE
    assert decision.bounced_message_id == "<ours@stopclock.local>"
    assert decision.detail == "mail to ada@example.test bounced: 5.1.1 user unknown"
    command = only_command(decision.commands)
    assert isinstance(command, CommentCommand)
    assert (command.ticket_id, command.visibility) == (TICKET.ticket_id, "internal")
    assert command.note_kind is NoteKind.BOUNCE


def test_a_bounce_of_a_mail_without_ticket_marks_it_and_notes_nothing() -> None:
    sent = SentMail("<ours@stopclock.local>", None, "ada@example.test")
    decision = decide_bounce(mail(bounce=BOUNCE), sent)
    assert (decision.bounced_message_id, decision.commands) == ("<ours@stopclock.local>", ())


def test_a_bounce_for_a_mail_we_never_sent_is_only_recorded() -> None:
    decision = decide_bounce(mail(bounce=BOUNCE), None)
    assert decision.outcome is Outcome.BOUNCE
    assert (decision.bounced_message_id, decision.commands, decision.ticket_id) == (None, (), None)


def test_the_thread_root_of_our_mails_names_its_ticket() -> None:
    ticket_id = "11111111-1111-4111-8111-111111111111"
    references = [
        "<abc@client.test>",
        f"<ticket-{ticket_id}@Stopclock.Local>",
        "<ticket-not-a-uuid@stopclock.local>",
        f"<ticket-{ticket_id}@elsewhere.test>",
    ]
    assert ticket_ids_of_references(references, "stopclock.local") == [ticket_id]


@pytest.mark.parametrize("status", ["closed", "cancelled"])
def test_the_requesters_reply_to_a_closed_ticket_opens_a_follow_up(status: str) -> None:
    closed = replace(TICKET, status=status, waiting_reason=None)
    decision = decide(
        mail(new_text="It broke again."),
        Thread(closed, "reply address"),
        sender_person=None,
        to_desk=False,
        new_ticket_id=NEW_ID,
    )
    assert decision.outcome is Outcome.NEW_TICKET
    command = only_command(decision.commands)
    assert isinstance(command, OpenTicketCommand)
    assert command.ticket_id == str(NEW_ID)
    assert command.requester_id == "ada"
    assert command.description.startswith(f"Follow-up of INC0000123, which was {status}.")
    assert "It broke again." in command.description
    assert command.source_message_id == "<m1@client.example.test>"


def test_a_strangers_mail_about_a_closed_ticket_opens_nothing() -> None:
    closed = replace(TICKET, status="closed", waiting_reason=None)
    decision = decide(
        mail(sender="mallory@example.test"),
        Thread(closed, "reply address"),
        sender_person=None,
        to_desk=False,
        new_ticket_id=NEW_ID,
    )
    assert decision.outcome is Outcome.INTERNAL_COMMENT
