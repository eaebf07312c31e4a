"""Reading any bytes: headers, charsets, bounds, and a clear refusal for unusable mail."""

import pytest

from stopclock_notification.domain.inbound import (
    MAX_NEW_TEXT,
    MalformedMail,
    read_mail,
    ticket_numbers,
)


def _mail(headers: str, body: str = "Hello.\n", *, encoding: str = "utf-8") -> bytes:
    return (headers + "\n" + body).encode(encoding, "surrogateescape")


@pytest.mark.parametrize(
    ("from_header", "sender", "name"),
    [
        ("Ann Lee <Ann.Lee@X.Example>", "ann.lee@x.example", "Ann Lee"),
        ("ann@x.example", "ann@x.example", "ann"),
        ("<ann@x.example>", "ann@x.example", "ann"),
        ('"Lee, Ann" <ann@x.example>, bob@y.example', "ann@x.example", "Lee, Ann"),
        ("Team: ann@x.example, Bob <bob@y.example>;", "ann@x.example", "ann"),
        ("undisclosed-recipients:;, ann@x.example", "ann@x.example", "ann"),
        ("=?utf-8?q?Jos=C3=A9_P=C3=A9rez?= <jose@x.example>", "jose@x.example", "José Pérez"),
        ("=?iso-8859-1?B?Suly9G1l?= <jerome@x.example>", "jerome@x.example", "Jérôme"),
        ("=?x-unknown?q?Ann?= <ann@x.example>", "ann@x.example", None),
        ("ann@x.example (Ann Lee)", "ann@x.example", None),
        ("Ann <ann@x.example", "ann@x.example", "Ann"),  # missing ">"
        ("a@ , ann@x.example", "ann@x.example", None),  # the stdlib parser raises on "a@"
        ("Jos\udcc3\udca9 <jose@x.example>", "jose@x.example", "José"),  # raw UTF-8 header
    ],
)
def test_the_sender_is_the_first_addr_spec_of_from(
    from_header: str, sender: str, name: str | None
) -> None:
    mail = read_mail(_mail(f"From: {from_header}\nTo: desk@example.com\n"))

    assert mail.sender == sender
    if name is not None:
        assert mail.sender_name == name


@pytest.mark.parametrize(
    "headers",
    [
        "To: desk@example.com\n",  # no From
        "From: \n",
        "From: Ann Lee\n",  # a name, no address
        "From: undisclosed-recipients:;\n",
        "From: a@\n",
        "From: <>\n",
        "From: @x.example\n",
    ],
)
def test_a_mail_without_a_sender_address_is_malformed(headers: str) -> None:
    with pytest.raises(MalformedMail, match="no sender"):
        read_mail(_mail(headers))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "no sender"),
        (b"\x00\x01\x02 not a mail", "no sender"),
        (b"just some text without headers\n", "no sender"),
    ],
)
def test_bytes_that_are_no_mail_are_malformed(raw: bytes, expected: str) -> None:
    with pytest.raises(MalformedMail, match=expected):
        read_mail(raw)


def test_a_missing_message_id_is_none() -> None:
    assert read_mail(_mail("From: ann@x.example\n")).message_id is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<abc@x.example>", "<abc@x.example>"),
        ("  <abc@x.example> (comment)", "<abc@x.example>"),
        ("abc@x.example", "<abc@x.example>"),  # broken clients forget the brackets
        ("not an id", None),
    ],
)
def test_the_message_id_is_read_with_its_brackets(value: str, expected: str | None) -> None:
    mail = read_mail(_mail(f"From: ann@x.example\nMessage-ID: {value}\n"))

    assert mail.message_id == expected


def test_in_reply_to_comes_before_references_without_repeats() -> None:
    mail = read_mail(
        _mail(
            "From: ann@x.example\nIn-Reply-To: <b@s.local>\n"
            "References: <a@s.local>\n <b@s.local> <c@s.local>\n"
        )
    )

    assert mail.in_reply_to == ("<b@s.local>", "<a@s.local>", "<c@s.local>")


def test_recipients_are_to_cc_and_delivered_to_lower_cased_once() -> None:
    mail = read_mail(
        _mail(
            "From: ann@x.example\nTo: Desk <Desk@Example.com>, bob@y.example\n"
            "Cc: desk@example.com, Team: carl@z.example;\nDelivered-To: reply+t@desk.example\n"
        )
    )

    assert mail.recipients == (
        "desk@example.com",
        "bob@y.example",
        "carl@z.example",
        "reply+t@desk.example",
    )


def test_a_folded_encoded_subject_is_one_decoded_line() -> None:
    mail = read_mail(
        _mail(
            "From: ann@x.example\nSubject: =?utf-8?q?Re=3A_=5BINC0000123=5D_Imprimante_?=\n"
            " =?utf-8?q?bloqu=C3=A9e?=\n   encore\n"
        )
    )

    assert mail.subject == "Re: [INC0000123] Imprimante bloquée encore"


def test_nul_bytes_are_removed_everywhere() -> None:
    mail = read_mail(b"From: ann@x.example\nSubject: a\x00b\n\nHel\x00lo\x00.\n")

    assert mail.subject == "ab"
    assert mail.new_text == "Hello."


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/plain; charset=utf-8", "Café crème".encode("cp1252"), "Café crème"),
        ("text/plain; charset=us-ascii", "Café".encode(), "Café"),  # the usual lie
        ("text/plain; charset=x-nonsense", "Café".encode(), "Café"),
        ("text/plain; charset=zlib", b"plain", "plain"),  # not a text codec
        ("text/plain; charset=iso-8859-1", "Café".encode("latin-1"), "Café"),
        ("text/plain; charset=utf-8", b"Caf\xc3\xa9 \xff", "Café \ufffd"),  # a broken byte
        ("text/plain", "Café".encode("cp1252"), "Café"),
    ],
)
def test_charset_errors_never_raise(content_type: str, body: bytes, expected: str) -> None:
    raw = b"From: ann@x.example\nContent-Type: " + content_type.encode() + b"\n\n" + body
    text = read_mail(raw).new_text

    assert text == expected
    text.encode("utf-8")  # valid for PostgreSQL


def test_new_text_is_bounded_and_says_it_was_cut() -> None:
    body = ("word " * 20 + "\n") * 2_000  # about 200 000 characters of new words
    mail = read_mail(_mail("From: ann@x.example\n", body))

    assert mail.truncated
    assert mail.new_text.endswith("\n[truncated]")
    assert MAX_NEW_TEXT - 200 < len(mail.new_text) <= MAX_NEW_TEXT + len("\n[truncated]")


def test_a_short_mail_is_not_marked_truncated() -> None:
    mail = read_mail(_mail("From: ann@x.example\n", "Short.\n"))

    assert not mail.truncated
    assert mail.new_text == "Short."


def test_a_mail_with_only_a_signature_keeps_it_rather_than_nothing() -> None:
    mail = read_mail(_mail("From: ann@x.example\n", "-- \nAnn Lee\nACME\n"))

    assert mail.quoted_only
    assert mail.new_text == "-- \nAnn Lee\nACME"


def test_a_mail_without_any_text_has_empty_new_text() -> None:
    mail = read_mail(
        b"From: ann@x.example\nMIME-Version: 1.0\nContent-Type: application/pdf; name=a.pdf\n"
        b"Content-Transfer-Encoding: base64\n\nJVBERi0=\n"
    )

    assert mail.new_text == ""
    assert not mail.quoted_only
    assert [(a.filename, a.size) for a in mail.attachments] == [("a.pdf", 5)]


def test_deeply_nested_multiparts_are_read_within_bounds() -> None:
    depth = 200
    head = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth)
    )
    tail = "".join(f"\n--b{i}--\n" for i in reversed(range(depth)))
    raw = f"From: ann@x.example\nMIME-Version: 1.0\n{head}Content-Type: text/plain\n\nDeep{tail}"

    mail = read_mail(raw.encode())

    assert mail.sender == "ann@x.example"  # deeper than MAX_DEPTH parts are left out
    assert "Deep" not in mail.new_text


def test_many_attachments_are_listed_up_to_a_bound() -> None:
    parts = "".join(
        "--b\nContent-Type: application/octet-stream\n"
        f'Content-Disposition: attachment; filename="f{i}.bin"\n\nx\n'
        for i in range(300)
    )
    raw = (
        "From: ann@x.example\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="b"\n\n{parts}--b--\n'
    )

    mail = read_mail(raw.encode())

    assert len(mail.attachments) == 100
    assert mail.attachments[0].filename == "f0.bin"


@pytest.mark.parametrize(
    ("subject", "numbers"),
    [
        ("Re: [INC0000123] Printer", ["INC0000123"]),
        ("inc0000123 and REQ0000042, again [INC0000123]", ["INC0000123", "REQ0000042"]),
        ("RE: TR: [REQ0001234567] Access", ["REQ0001234567"]),
        ("INC123 is too short", []),
        ("XINC0000123 is glued", []),
        ("", []),
    ],
)
def test_ticket_numbers_in_a_subject(subject: str, numbers: list[str]) -> None:
    assert ticket_numbers(subject) == numbers
