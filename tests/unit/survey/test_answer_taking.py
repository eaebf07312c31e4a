"""What a requester's answer on the page asks of the ticket service."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stopclock_survey.domain.answers import (
    MAX_ANSWER_LENGTH,
    Reply,
    choice_of,
    take_answer,
)
from stopclock_survey.domain.errors import InvalidAnswer


@pytest.mark.parametrize(
    ("reason", "answer", "comment", "reply"),
    [
        ("user_validation", "yes", "", Reply("Yes, it works.", resolve=True)),
        (
            "user_validation",
            "yes",
            "  Thanks!  ",
            Reply("Yes, it works.\n\nThanks!", resolve=True),
        ),
        ("user_validation", "no", "", Reply("No, it still fails.", resolve=False)),
        (
            "user_validation",
            "no",
            "Same error <500>.",
            Reply("No, it still fails.\n\nSame error <500>.", resolve=False),
        ),
        ("info_requested", None, "A T14.", Reply("A T14.", resolve=False)),
        ("user_response", "yes", "Done.", Reply("Done.", resolve=False)),
    ],
)
def test_an_answer_becomes_the_requesters_comment_and_yes_also_resolves(
    reason: str, answer: str | None, comment: str, reply: Reply
) -> None:
    assert take_answer(reason, answer, comment) == reply


@pytest.mark.parametrize(
    ("reason", "answer", "comment", "fields"),
    [
        ("user_validation", None, "It works I think", {"answer"}),
        ("user_validation", "maybe", "", {"answer"}),
        ("info_requested", None, "   \n ", {"comment"}),
        ("user_response", "yes", "\x00", {"comment"}),
        ("user_validation", "no", "x" * (MAX_ANSWER_LENGTH + 1), {"comment"}),
        ("user_validation", None, "x" * (MAX_ANSWER_LENGTH + 1), {"answer", "comment"}),
    ],
)
def test_an_incomplete_answer_names_the_fields_to_fix(
    reason: str, answer: str | None, comment: str, fields: set[str]
) -> None:
    with pytest.raises(InvalidAnswer) as refused:
        take_answer(reason, answer, comment)
    assert {e.field for e in refused.value.errors} == fields


@pytest.mark.parametrize(
    ("value", "choice"),
    [("yes", "yes"), ("NO", "no"), (" yes ", "yes"), ("oui", None), ("", None), (None, None)],
)
def test_only_yes_or_no_is_a_choice(value: str | None, choice: str | None) -> None:
    assert choice_of(value) == choice


@given(st.text(max_size=200))
def test_a_written_answer_reaches_the_agent_as_typed_save_the_outer_blanks(text: str) -> None:
    try:
        reply = take_answer("info_requested", None, text)
    except InvalidAnswer:
        assert not text.replace("\x00", "").strip()
        return
    assert reply.comment == text.replace("\x00", "").strip()
    assert not reply.resolve
