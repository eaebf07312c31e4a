"""Rules for commands from other services: who a relayed comment is from, when a resolve
command is left alone, when a requester's comment reopens, and how mail text is fitted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stopclock_shared.events.vocabulary import ResolveReason
from stopclock_ticket.domain import (
    Role,
    Status,
    Visibility,
    comment_author,
    fit,
    requester_comment_answers,
    requester_comment_reopens,
    resolve_refusal,
)

S = Status
REQUESTER = "alice"
NO_RESPONSE = ResolveReason.NO_RESPONSE
CONFIRMED = ResolveReason.CONFIRMED_BY_REQUESTER


# -- who a relayed comment is from ------------------------------------------------------------


@pytest.mark.parametrize(
    ("author_id", "expected_id", "expected_roles"),
    [
        (None, "system:stopclock/notification", {Role.SERVICE}),
        (REQUESTER, REQUESTER, {Role.REQUESTER}),
        ("bob", "bob", set()),
        ("system:stopclock/notification", "system:stopclock/notification", set()),
    ],
    ids=["no author: the sender", "the requester", "another person", "a look-alike id"],
)
def test_a_relayed_comment_is_by_the_named_person_else_by_the_sending_service(
    author_id: str | None, expected_id: str, expected_roles: set[Role]
) -> None:
    actor = comment_author(author_id, REQUESTER, "stopclock/notification")
    assert (actor.id, set(actor.roles)) == (expected_id, expected_roles)
    assert not actor.is_staff or author_id is None


@given(author=st.text(min_size=1, max_size=40).filter(lambda a: a != REQUESTER))
def test_a_comment_by_anyone_but_the_requester_never_answers_nor_reopens(author: str) -> None:
    actor = comment_author(author, REQUESTER, "stopclock/notification")
    by_requester = actor.id == REQUESTER
    for status in Status:
        assert not requester_comment_answers(status, Visibility.PUBLIC, by_requester)
        assert not requester_comment_reopens(status, NO_RESPONSE, Visibility.PUBLIC, by_requester)


# -- the requester's comment on a resolved ticket -----------------------------------------------


@pytest.mark.parametrize(
    ("status", "resolution_reason", "visibility", "by_requester", "reopens"),
    [
        (S.RESOLVED, NO_RESPONSE, Visibility.PUBLIC, True, True),
        (S.RESOLVED, NO_RESPONSE, Visibility.INTERNAL, True, False),
        (S.RESOLVED, NO_RESPONSE, Visibility.PUBLIC, False, False),
        (S.RESOLVED, CONFIRMED, Visibility.PUBLIC, True, False),
        (S.RESOLVED, None, Visibility.PUBLIC, True, False),
        (S.CLOSED, NO_RESPONSE, Visibility.PUBLIC, True, False),
        (S.IN_PROGRESS, None, Visibility.PUBLIC, True, False),
    ],
)
def test_only_the_requesters_public_comment_reopens_a_ticket_resolved_for_no_response(
    status: Status,
    resolution_reason: str | None,
    visibility: Visibility,
    by_requester: bool,
    reopens: bool,
) -> None:
    assert requester_comment_reopens(status, resolution_reason, visibility, by_requester) is reopens


# -- resolve commands ---------------------------------------------------------------------------

ACTS_ON = {
    NO_RESPONSE: {S.WAITING_ON_USER},
    CONFIRMED: {S.WAITING_ON_USER, S.IN_PROGRESS},
}


@pytest.mark.parametrize("reason", [NO_RESPONSE, CONFIRMED])
@pytest.mark.parametrize("status", list(Status))
def test_a_resolve_command_acts_only_on_the_statuses_its_reason_allows(
    reason: ResolveReason, status: Status
) -> None:
    refusal = resolve_refusal(reason, status)
    assert (refusal is None) == (status in ACTS_ON[reason])


def test_no_response_is_refused_once_the_requester_answered() -> None:
    assert resolve_refusal(NO_RESPONSE, S.IN_PROGRESS) == "requester answered meanwhile"


def test_a_confirmation_on_a_resolved_ticket_says_why_it_is_left_alone() -> None:
    assert "resolved" in (resolve_refusal(CONFIRMED, S.RESOLVED) or "")


@pytest.mark.parametrize("reason", [None, "duplicate", "fixed_by_vendor"])
@pytest.mark.parametrize("status", list(Status))
def test_other_reasons_are_left_to_the_lifecycle(reason: str | None, status: Status) -> None:
    assert resolve_refusal(reason, status) is None


# -- fitting mail text into the API's limits ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("  VPN down  ", 300, "VPN down"),
        ("", 300, "(no subject)"),
        (" \n\t", 300, "(no subject)"),
        ("abcdef", 6, "abcdef"),
        ("abcdefg", 6, "abcde…"),
        ("abc   defg", 6, "abc…"),
    ],
)
def test_fit_strips_cuts_with_an_ellipsis_and_fills_blanks(
    text: str, limit: int, expected: str
) -> None:
    assert fit(text, limit, "(no subject)") == expected


@given(text=st.text(max_size=400), limit=st.integers(min_value=2, max_value=300))
def test_fit_always_gives_a_non_blank_text_within_the_limit(text: str, limit: int) -> None:
    fitted = fit(text, limit, "(none)")
    assert fitted.strip()
    assert len(fitted) <= max(limit, len("(none)"))
    if text.strip() and len(text.strip()) <= limit:
        assert fitted == text.strip()
