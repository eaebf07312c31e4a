"""Whatever arrives, reading gives an InboundMail or MalformedMail, and text safe to store."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stopclock_notification.domain.inbound import (
    MAX_NEW_TEXT,
    InboundMail,
    MalformedMail,
    read_mail,
)
from stopclock_notification.domain.inbound.reply_text import new_words, normalised

from .mails import MAILS

HEADER_NAMES = [
    "From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Content-Type",
    "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version", "Auto-Submitted",
    "Precedence", "Return-Path", "List-Id", "X-Autoreply", "Delivered-To", "Date",
]  # fmt: skip
FRAGMENTS = [
    "a@b.c", "<x@y>", "=?utf-8?q?=C3=A9?=", "=?bogus?b?!!!?=", "multipart/mixed",
    'multipart/report; report-type=delivery-status; boundary="b"', 'boundary="b"', "--b",
    "--b--", "text/html", "base64", "quoted-printable", "charset=utf-16", ";", ":", ",",
    "<", ">", '"', "(", ")", "\\", "\udcff", "\x00", "\r\n", "\n", " ", "\t", "é", "auto-replied",
    "message/rfc822", "message/delivery-status", "Final-Recipient: rfc822; x@y", "Action: failed",
    "filename*=utf-8''%C3%A9", "undisclosed:;", "@", "=", "?", "<blockquote>",
]  # fmt: skip

soup_value = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=8).map(
    "".join
)
header_soup = st.lists(st.tuples(st.sampled_from(HEADER_NAMES), soup_value), max_size=12).map(
    lambda pairs: "".join(f"{name}: {value}\n" for name, value in pairs)
)


def _check(raw: bytes) -> None:
    try:
        mail = read_mail(raw)
    except MalformedMail:
        return
    assert isinstance(mail, InboundMail)
    assert "@" in mail.sender
    for text in (mail.new_text, mail.subject, mail.sender_name, *mail.headers.values()):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates: PostgreSQL takes it
    assert len(mail.new_text) <= MAX_NEW_TEXT + len("\n[truncated]")
    assert not (mail.bounce and mail.auto_reply)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_are_a_mail_or_malformed(raw: bytes) -> None:
    _check(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header_soup, soup_value)
def test_header_soup_is_a_mail_or_malformed(headers: str, body: str) -> None:
    _check((headers + "\n" + body).encode("utf-8", "surrogateescape"))


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(sorted(p.name for p in MAILS.glob("*.eml"))),
    st.integers(min_value=0, max_value=5000),
    st.binary(min_size=1, max_size=20),
)
def test_corrupted_real_mails_are_a_mail_or_malformed(name: str, at: int, junk: bytes) -> None:
    raw = (MAILS / name).read_bytes()
    at = at % len(raw)
    _check(raw[:at] + junk + raw[at + len(junk) :])


# words with no marker character (">", "-", ":", "@", digits): nothing to take for history
plain_lines = st.lists(
    st.text(alphabet=string.ascii_letters + " éàç,.!?'", min_size=1, max_size=60), max_size=15
)


@settings(max_examples=200, deadline=None)
@given(plain_lines)
def test_text_without_quote_marks_keeps_every_word(lines: list[str]) -> None:
    text = "\n".join(lines)

    assert new_words(text) == normalised(text)
