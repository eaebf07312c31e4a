"""Signed reply addresses and answer tokens: they round-trip, and nothing else verifies."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stopclock_shared.links import (
    MAX_LOCAL_PART,
    answer_token,
    link_key,
    read_answer_token,
    read_reply_address,
    read_reply_tag,
    reply_address,
    same_wait,
)

KEY = link_key("test-secret")
OTHER_KEY = link_key("another-secret")
DESK = "servicedesk@stopclock.local"
TICKET = uuid.UUID("0eb07575-d557-40c9-bf5c-e7e19ff26417")
SINCE = datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=UTC)


def test_reply_address_names_the_ticket_and_the_recipient() -> None:
    address = reply_address(KEY, DESK, TICKET, "Alice@Example.com")
    tag = read_reply_address(KEY, DESK, address)
    assert tag is not None
    assert tag.ticket_id == TICKET
    assert tag.sent_to("alice@example.com")
    assert not tag.sent_to("mallory@example.com")


def test_reply_address_fits_a_local_part_and_survives_case_changes() -> None:
    address = reply_address(KEY, DESK, TICKET, "alice@example.com")
    local, _, domain = address.rpartition("@")
    assert len(local) <= MAX_LOCAL_PART
    assert domain == "stopclock.local"
    assert read_reply_address(KEY, DESK, address.upper()) == read_reply_address(KEY, DESK, address)


@pytest.mark.parametrize(
    "address",
    [
        "servicedesk@stopclock.local",  # the plain desk address: no tag
        "someone+tag@stopclock.local",  # another mailbox
        "servicedesk+abc@stopclock.local",  # too short
        "servicedesk+" + "a" * 45 + "@stopclock.local",  # right size, wrong MAC
        "servicedesk+" + "!" * 45 + "@stopclock.local",  # not base32
        "",
        "@",
    ],
)
def test_addresses_we_did_not_sign_are_not_reply_addresses(address: str) -> None:
    assert read_reply_address(KEY, DESK, address) is None


def test_a_reply_address_from_another_desk_or_key_does_not_verify() -> None:
    address = reply_address(KEY, DESK, TICKET, "alice@example.com")
    assert read_reply_address(OTHER_KEY, DESK, address) is None
    assert read_reply_address(KEY, "servicedesk@other.example", address) is None


def test_an_altered_reply_tag_does_not_verify() -> None:
    address = reply_address(KEY, DESK, TICKET, "alice@example.com")
    local, _, domain = address.rpartition("@")
    flipped = local[:-1] + ("a" if local[-1] != "a" else "b")
    assert read_reply_address(KEY, DESK, f"{flipped}@{domain}") is None


def test_a_long_desk_local_part_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        reply_address(KEY, "a-very-long-service-desk-name@x.example", TICKET, "a@b.example")


def test_answer_token_names_the_ticket_and_the_wait() -> None:
    ref = read_answer_token(KEY, answer_token(KEY, TICKET, SINCE))
    assert ref is not None
    assert ref.ticket_id == TICKET
    assert ref.waiting_since == SINCE
    assert same_wait(ref.waiting_since, SINCE.astimezone(timezone(timedelta(hours=2))))
    assert not same_wait(ref.waiting_since, SINCE + timedelta(microseconds=1))


@pytest.mark.parametrize(
    "token", ["", "x", "a" * 54, "é" * 54, "a" * 500, "====", "%00%00", "\x00" * 54]
)
def test_tokens_we_did_not_sign_are_refused(token: str) -> None:
    assert read_answer_token(KEY, token) is None


def test_an_answer_token_under_another_key_is_refused() -> None:
    assert read_answer_token(OTHER_KEY, answer_token(KEY, TICKET, SINCE)) is None


@given(
    ticket=st.uuids(),
    since=st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)
    ),
    recipient=st.emails(),
)
def test_everything_signed_round_trips(ticket: uuid.UUID, since: datetime, recipient: str) -> None:
    ref = read_answer_token(KEY, answer_token(KEY, ticket, since))
    assert ref is not None
    assert ref.ticket_id == ticket
    assert same_wait(ref.waiting_since, since)
    tag = read_reply_address(KEY, DESK, reply_address(KEY, DESK, ticket, recipient))
    assert tag is not None
    assert tag.ticket_id == ticket
    assert tag.sent_to(recipient.upper())


@given(st.text(max_size=120))
def test_no_text_crashes_the_readers_or_verifies(text: str) -> None:
    assert read_answer_token(KEY, text) is None
    assert read_reply_tag(KEY, text) is None
    assert read_reply_address(KEY, DESK, text) is None
