"""Delivery reports: the failed recipient, status, reason and OUR original Message-ID."""

import pytest

from stopclock_notification.domain.inbound import Bounce, read_mail

from .mails import raw, read

BOUNCES = [
    (
        "dsn_postfix_en",  # RFC 3464 with text/rfc822-headers; Original-Recipient preferred
        Bounce(
            original_message_id="<0718293a4b5c6d7e8f90a1b2c3d4e5f60718293a@stopclock.local>",
            recipient="j.doe@corp.example.org",
            status="5.1.1",
            reason="550 5.1.1 <j.doe@corp.example.org>: Recipient address rejected: "
            "User unknown in virtual mailbox table",
        ),
    ),
    (
        "dsn_exchange_fr",  # Exchange Online NDR, French, message/rfc822 copy
        Bounce(
            original_message_id="<18293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b@stopclock.local>",
            recipient="paul.martin@societe.fr",
            status="5.1.10",
            reason="550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP "
            "address lookup",
        ),
    ),
    (
        "qmail_bounce",  # prose bounce from MAILER-DAEMON, copy of our mail in the text
        Bounce(
            original_message_id="<3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d@stopclock.local>",
            recipient="gone@oldhost.example",
            status="5.1.1",
            reason="Sorry, no mailbox here by that name. (#5.1.1)",
        ),
    ),
    (
        "exim_bounce",  # Exim's "Mail delivery failed: returning message to sender"
        Bounce(
            original_message_id="<4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e@stopclock.local>",
            recipient="nobody@isp.example",
            status="5.1.1",
            reason="550 5.1.1 No such user here",
        ),
    ),
]


@pytest.mark.parametrize(("name", "bounce"), BOUNCES, ids=[n for n, _ in BOUNCES])
def test_a_bounce_names_the_failed_recipient_and_our_mail(name: str, bounce: Bounce) -> None:
    mail = read(name)

    assert mail.bounce == bounce


@pytest.mark.parametrize("name", [n for n, _ in BOUNCES])
def test_a_bounce_is_never_also_an_automatic_reply(name: str) -> None:
    # the Postfix and Exchange reports carry "Auto-Submitted: auto-replied" too
    mail = read(name)

    assert mail.bounce is not None
    assert mail.auto_reply is None
    assert not mail.out_of_office


def test_the_returned_copy_of_our_mail_is_not_listed_as_an_attachment() -> None:
    assert read("dsn_exchange_fr").attachments == ()


def test_a_delay_report_is_automatic_mail_not_a_bounce() -> None:
    mail = read("dsn_delayed")

    assert mail.bounce is None
    assert mail.auto_reply == "delivery status notification (delayed)"
    assert not mail.out_of_office


def _dsn(action: str, status: str, extra: str = "") -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example>\nTo: desk@example.com\n"
        "Subject: Delivery Status Notification\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nReport.\n"
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
        f"Final-Recipient: rfc822; <ann@x.example>\n{action}Status: {status}\n{extra}\n"
        "--b\nContent-Type: message/rfc822\n\nMessage-ID: <ours@stopclock.local>\n"
        "To: ann@x.example\n\nHello\n--b--\n"
    ).encode()


@pytest.mark.parametrize(
    ("action", "status", "bounced"),
    [
        ("Action: failed\n", "5.2.2", True),
        ("Action: failed (bad address)\n", "5.1.1", True),
        ("Action: error\n", "5.0.0", True),  # opensmtpd's non-standard action
        ("", "5.1.1", True),  # no Action: the status class decides
        ("Action: delayed\n", "4.4.7", False),
        ("Action: delivered\n", "2.0.0", False),
        ("Action: relayed\n", "2.0.0", False),
    ],
)
def test_only_a_failed_delivery_is_a_bounce(action: str, status: str, bounced: bool) -> None:
    mail = read_mail(_dsn(action, status))

    assert (mail.bounce is not None) is bounced
    assert (mail.auto_reply is None) is bounced
    if bounced:
        assert mail.bounce is not None
        assert mail.bounce.recipient == "ann@x.example"
        assert mail.bounce.status == status
        assert mail.bounce.original_message_id == "<ours@stopclock.local>"


def test_a_dsn_without_diagnostic_gets_a_readable_reason() -> None:
    mail = read_mail(_dsn("Action: failed\n", "5.2.2"))

    assert mail.bounce is not None
    assert mail.bounce.reason == "mailbox full"


def test_a_daemon_mail_that_reports_no_failure_is_automatic_not_a_bounce() -> None:
    mail = read_mail(
        b"From: MAILER-DAEMON@mx.example\nTo: desk@example.com\nSubject: Queue report\n\n"
        b"Your queue holds 3 messages.\n"
    )

    assert mail.bounce is None
    assert mail.auto_reply == "automatic sender: mailer-daemon@mx.example"


def test_a_bounce_subject_with_our_attached_mail_is_a_bounce_whoever_sends_it() -> None:
    message = (
        b"From: Postmaster Robot <robot@relay.example>\nTo: desk@example.com\n"
        b"Subject: Undeliverable: [INC0000150] Reminder\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nDelivery has failed to these recipients.\n"
        b"--b\nContent-Type: message/rfc822\n\nMessage-ID: <our-reminder@stopclock.local>\n"
        b"To: Ann <Ann@X.example>\n\nHello\n--b--\n"
    )

    mail = read_mail(message)

    assert mail.bounce is not None
    assert mail.bounce.original_message_id == "<our-reminder@stopclock.local>"
    assert mail.bounce.recipient == "ann@x.example"
    assert mail.auto_reply is None


def test_a_bounce_from_a_mailer_daemon_has_the_daemon_as_sender() -> None:
    assert read_mail(raw("qmail_bounce")).sender == "mailer-daemon@mail.oldhost.example"


def test_a_person_forwarding_a_bounce_asks_for_help_and_is_no_bounce() -> None:
    message = (
        b"From: Ann <ann@x.example>\nTo: desk@example.com\n"
        b"Subject: Fwd: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nI cannot write to my supplier, help!\n"
        b"--b\nContent-Type: message/rfc822\n\nFrom: MAILER-DAEMON@mx.example\n"
        b"Subject: Undelivered Mail Returned to Sender\nMessage-ID: <b@mx.example>\n\nSorry\n"
        b"--b--\n"
    )

    mail = read_mail(message)

    assert mail.bounce is None
    assert mail.auto_reply is None
    assert mail.new_text == "I cannot write to my supplier, help!"
