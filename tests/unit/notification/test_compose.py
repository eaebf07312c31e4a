"""The message handed to SMTP: multipart text + HTML with the deterministic Message-ID."""

import email
import email.policy
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from stopclock_notification.domain import RenderedMail, message_id_for
from stopclock_notification.domain.composing import (
    OutgoingMail,
    compose,
    desk_sender,
    reply_to_of,
    threading_of,
)
from stopclock_shared.links import link_key, read_reply_address

MAIL = RenderedMail(
    subject="[INC0000123] We received your request: Printer",
    text="Hello Ada,\nyour ticket INC0000123 is logged.\n",
    html='<!DOCTYPE html><html lang="en"><body><p>Hello Ada</p></body></html>\n',
)
DECIDED = datetime(2024, 5, 14, 7, 30, tzinfo=UTC)


def outgoing(mail: RenderedMail = MAIL, **overrides: object) -> OutgoingMail:
    fields: dict[str, object] = {
        "sender": "Stopclock Service Desk <servicedesk@stopclock.local>",
        "recipient": "ada@example.test",
        "message_id": message_id_for("event-1", "ticket_opened", "ada@example.test"),
        "date": DECIDED,
        "kind": "ticket_opened",
        "locale": "en",
        "ticket_id": "7d3c0f5e-0000-4000-8000-000000000001",
        "domain": "stopclock.local",
    }
    fields.update(overrides)
    return compose(mail, **fields)  # type: ignore[arg-type]


def message(mail: RenderedMail = MAIL, **overrides: object) -> EmailMessage:
    """The mail as a reader's client parses it."""
    parsed = email.message_from_bytes(outgoing(mail, **overrides).data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert not parsed.defects
    return parsed


def test_the_message_carries_the_deterministic_message_id() -> None:
    expected = message_id_for("event-1", "ticket_opened", "ada@example.test")
    assert message()["Message-ID"] == expected


def test_the_message_is_plain_text_with_an_html_alternative() -> None:
    msg = message()
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert "INC0000123" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "<p>Hello Ada</p>" in msg.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_the_headers_say_who_what_and_that_a_machine_sent_it() -> None:
    msg = message()
    assert msg["To"] == "ada@example.test"
    assert msg["From"] == "Stopclock Service Desk <servicedesk@stopclock.local>"
    assert msg["Subject"] == MAIL.subject
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Stopclock-Kind"] == "ticket_opened"
    assert msg["Content-Language"] == "en"


def test_the_date_is_when_the_mail_was_decided_so_a_resend_carries_the_same_one() -> None:
    assert message()["Date"] == "Tue, 14 May 2024 07:30:00 +0000"


def test_every_mail_of_a_ticket_references_the_ticket_so_clients_thread_them() -> None:
    assert (
        message()["References"] == "<ticket-7d3c0f5e-0000-4000-8000-000000000001@stopclock.local>"
    )
    assert message(ticket_id=None)["References"] is None


@pytest.mark.parametrize(
    "recipient", ["ada@example.test\r\nBcc: eve@example.test", "ada@example.test\nX-Evil: 1"]
)
def test_a_line_break_in_an_address_is_refused_rather_than_becoming_a_header(
    recipient: str,
) -> None:
    with pytest.raises(ValueError, match=r"linefeed|carriage return"):
        message(recipient=recipient)


def test_the_smtp_envelope_is_the_senders_and_the_recipients_address() -> None:
    sent = outgoing()
    assert sent.sender == "servicedesk@stopclock.local"
    assert sent.recipients == ("ada@example.test",)
    assert sent.message_id == message_id_for("event-1", "ticket_opened", "ada@example.test")


def test_a_resend_is_byte_for_byte_the_same_mail() -> None:
    assert outgoing().data == outgoing().data


def test_accents_long_lines_and_odd_lines_survive_the_trip() -> None:
    text = (
        "Bonjour Élodie,\n"
        + "votre demande est enregistrée. " * 8
        + "\n.a line starting with a dot\nFrom the desk\ntrailing space \n"
    )
    mail = RenderedMail(
        subject="[INC0000123] Demande reçue : imprimante à l'étage",
        text=text,
        html="<p>Élodie, à bientôt</p>\n",
    )
    msg = message(mail)
    assert msg["Subject"] == mail.subject
    assert msg.get_body(("plain",)).get_content() == text  # type: ignore[union-attr]
    assert msg.get_body(("html",)).get_content() == mail.html  # type: ignore[union-attr]
    assert all(len(line) <= 78 for line in outgoing(mail).data.decode("ascii").splitlines())


def test_a_long_subject_is_folded_and_read_back_whole() -> None:
    subject = "[INC0000123] We received your request: " + "the printer on floor 3 jams " * 4
    mail = RenderedMail(subject=subject.strip(), text="x\n", html="<p>x</p>\n")
    assert message(mail)["Subject"] == subject.strip()
    assert all(len(line) <= 78 for line in outgoing(mail).data.decode("ascii").splitlines())


def test_a_line_break_in_the_subject_is_refused() -> None:
    with pytest.raises(ValueError, match=r"linefeed|carriage return"):
        outgoing(RenderedMail(subject="Hello\r\nBcc: eve@example.test", text="x\n", html="x\n"))


def test_a_sender_with_a_display_name_in_need_of_quoting_keeps_its_meaning() -> None:
    sent = outgoing(sender='"Desk, Level 2" <desk@stopclock.local>')
    assert sent.sender == "desk@stopclock.local"
    assert message(sender='"Desk, Level 2" <desk@stopclock.local>')["From"].addresses[
        0
    ].display_name == ("Desk, Level 2")


# --- replies come back to the ticket ---------------------------------------------------------

KEY = link_key("unit-test-link-secret")
DESK = "servicedesk@stopclock.local"
TICKET = "7d3c0f5e-0000-4000-8000-000000000001"


def test_a_ticket_mail_carries_a_reply_address_that_names_the_ticket_and_the_recipient() -> None:
    reply_to = reply_to_of(KEY, DESK, TICKET, "Ada@Example.test")
    assert reply_to is not None

    parsed = message(reply_to=reply_to)

    [address] = parsed["Reply-To"].addresses
    tag = read_reply_address(KEY, DESK, address.addr_spec)
    assert tag is not None
    assert tag.ticket_id == uuid.UUID(TICKET)
    assert tag.sent_to("ada@example.test")
    assert not tag.sent_to("eve@example.test")
    assert all(len(line) <= 78 for line in outgoing(reply_to=reply_to).data.decode().splitlines())


def test_a_reply_address_made_with_another_key_is_not_ours() -> None:
    reply_to = reply_to_of(link_key("someone else"), DESK, TICKET, "ada@example.test")
    assert reply_to is not None

    assert read_reply_address(KEY, DESK, reply_to) is None


@pytest.mark.parametrize("ticket_id", [None, "", "not-a-uuid"])
def test_a_mail_about_no_ticket_of_ours_has_no_reply_address(ticket_id: str | None) -> None:
    assert reply_to_of(KEY, DESK, ticket_id, "ada@example.test") is None
    assert message(ticket_id=ticket_id or None)["Reply-To"] is None


def test_the_from_is_the_desk_address_under_the_configured_name() -> None:
    assert desk_sender("Help Desk <old@elsewhere.test>", DESK) == f"Help Desk <{DESK}>"
    assert desk_sender("", "help@corp.test") == "Stopclock Service Desk <help@corp.test>"
    assert outgoing(sender=desk_sender("Help Desk <x@y.test>", DESK)).sender == DESK


def test_the_confirmation_of_a_mail_answers_it_and_keeps_the_ticket_thread() -> None:
    source = "<CAF=1x+y@mail.example.test>"

    parsed = message(in_reply_to=source)

    assert parsed["In-Reply-To"] == source
    assert parsed["References"].split() == [source, f"<ticket-{TICKET}@stopclock.local>"]


def test_a_long_foreign_message_id_is_repeated_whole_never_encoded() -> None:
    source = "<" + "x" * 120 + "@mail.example.test>"

    sent = outgoing(in_reply_to=source)

    parsed = message(in_reply_to=source)
    assert parsed["In-Reply-To"] == source
    assert parsed["References"].split()[0] == source
    assert b"=?" not in sent.data.split(b"\n\n", 1)[0]


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        pytest.param({"in_reply_to": "<a.1@b.test>"}, "<a.1@b.test>", id="valid"),
        pytest.param({"in_reply_to": " <a.1@b.test> "}, "<a.1@b.test>", id="padded"),
        pytest.param({"in_reply_to": None}, None, id="none"),
        pytest.param({}, None, id="absent (row stored before threading)"),
        pytest.param({"in_reply_to": "a.1@b.test"}, None, id="no angle brackets"),
        pytest.param({"in_reply_to": "<a 1@b.test>"}, None, id="space inside"),
        pytest.param({"in_reply_to": "<a@b>\r\nBcc: eve@x.test"}, None, id="header injection"),
        pytest.param({"in_reply_to": "<a@b> <c@d>"}, None, id="two ids"),
        pytest.param({"in_reply_to": "<é@b.test>"}, None, id="not ascii"),
        pytest.param({"in_reply_to": 12}, None, id="not text"),
    ],
)
def test_only_a_well_formed_message_id_is_repeated(
    context: dict[str, object], expected: str | None
) -> None:
    assert threading_of(context) == expected
