"""The waits as the answer pages see them: how a wait ended, its question, what a link shows."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stopclock_survey.domain.waits import (
    PageKind,
    TicketNow,
    Wait,
    WaitEnd,
    end_of_wait,
    is_agent_comment,
    question_of,
    verdict,
)

ASKED = datetime(2026, 12, 3, 9, 15, 30, 123456, tzinfo=UTC)
LATER = ASKED + timedelta(hours=2)


@pytest.mark.parametrize(
    ("to_status", "reason", "end"),
    [
        ("in_progress", "requester_answered", WaitEnd.ANSWERED),
        ("in_progress", None, WaitEnd.RESUMED),
        ("resolved", "confirmed_by_requester", WaitEnd.CONFIRMED),
        ("resolved", "no_response", WaitEnd.NO_RESPONSE),
        ("resolved", None, WaitEnd.RESOLVED),
        ("cancelled", None, WaitEnd.CANCELLED),
        ("waiting_on_user", "info_requested", None),
    ],
)
def test_the_change_that_ends_a_wait_says_how_it_ended(
    to_status: str, reason: str | None, end: WaitEnd | None
) -> None:
    assert end_of_wait(to_status, reason) == end


@pytest.mark.parametrize(
    ("note", "comment", "question"),
    [
        ("Which model is it?", "Earlier remark", "Which model is it?"),
        (None, "Please try rebooting.", "Please try rebooting."),
        ("   ", "Please try rebooting.", "Please try rebooting."),
        (None, None, None),
        ("", "  ", None),
        ("  Keep my spacing  \n", None, "  Keep my spacing  \n"),
    ],
)
def test_the_question_is_the_note_else_the_last_agent_comment_verbatim(
    note: str | None, comment: str | None, question: str | None
) -> None:
    assert question_of(note, comment) == question


@pytest.mark.parametrize(
    ("visibility", "by_requester", "author", "counts"),
    [
        ("public", False, "agent-7", True),
        ("internal", False, "agent-7", False),
        ("public", True, "alice", False),
        ("public", False, "system:stopclock/escalation", False),
    ],
)
def test_only_a_public_comment_of_the_desk_can_be_the_question(
    visibility: str, by_requester: bool, author: str, counts: bool
) -> None:
    assert is_agent_comment(visibility, by_requester, author) is counts


def waiting(since: datetime = ASKED) -> TicketNow:
    return TicketNow("waiting_on_user", since, known_until=since)


def test_the_form_shows_while_the_links_wait_is_the_current_one() -> None:
    found = verdict(ASKED, waiting(), Wait(ASKED, "user_validation", "Works?"))
    assert found.open
    assert not found.answered_here


@pytest.mark.parametrize(
    ("answer", "kind"), [("yes", PageKind.CONFIRMED_HERE), ("no", PageKind.ANSWERED_HERE)]
)
def test_an_answer_on_the_page_closes_it_even_before_the_ticket_moved(
    answer: str, kind: PageKind
) -> None:
    wait = Wait(ASKED, "user_validation", answered_at=LATER, answer=answer)
    found = verdict(ASKED, waiting(), wait)
    assert (found.kind, found.at) == (kind, LATER)
    assert found.answered_here


def test_an_answer_on_the_page_wins_over_how_the_wait_ended() -> None:
    wait = Wait(ASKED, "info_requested", ended_at=LATER, end=WaitEnd.ANSWERED, answered_at=LATER)
    now = TicketNow("in_progress", None, known_until=LATER)
    assert verdict(ASKED, now, wait).kind is PageKind.ANSWERED_HERE


@pytest.mark.parametrize("end", list(WaitEnd))
def test_a_wait_that_ended_says_how_and_when(end: WaitEnd) -> None:
    wait = Wait(ASKED, "user_validation", ended_at=LATER, end=end)
    found = verdict(ASKED, TicketNow("in_progress", None, known_until=LATER), wait)
    assert (found.kind.value, found.at) == (end.value, LATER)
    assert not found.open


def test_an_earlier_wait_stays_over_when_a_new_one_begins() -> None:
    old = Wait(ASKED, "user_validation", ended_at=LATER, end=WaitEnd.RESUMED)
    found = verdict(ASKED, waiting(LATER + timedelta(hours=1)), old)
    assert found.kind is PageKind.RESUMED


def test_a_link_to_a_wait_we_never_saw_while_another_is_open_is_superseded() -> None:
    found = verdict(ASKED - timedelta(days=1), waiting(), None)
    assert found.kind is PageKind.SUPERSEDED


def test_a_link_to_a_wait_newer_than_anything_we_know_is_pending_not_over() -> None:
    behind = TicketNow("in_progress", None, known_until=ASKED - timedelta(milliseconds=3))
    assert verdict(ASKED, behind, None).kind is PageKind.PENDING


def test_a_link_to_an_unknown_past_wait_of_a_ticket_that_no_longer_waits_is_over() -> None:
    now = TicketNow("resolved", None, known_until=LATER)
    assert verdict(ASKED, now, None).kind is PageKind.OVER


@given(st.integers(min_value=1, max_value=10**9))
def test_a_wait_is_named_to_the_microsecond(micros: int) -> None:
    other = ASKED + timedelta(microseconds=micros)
    found = verdict(other, waiting(ASKED), Wait(ASKED, "user_validation"))
    assert not found.open


def test_a_current_wait_the_replica_has_not_recorded_yet_is_pending_not_over() -> None:
    assert verdict(ASKED, waiting(), None).kind is PageKind.PENDING
