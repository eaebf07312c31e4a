from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from stopclock_shared.errors import FieldError
from stopclock_survey.domain.errors import AlreadyAnswered, InvalidAnswer, SurveyExpired
from stopclock_survey.domain.survey import (
    MAX_COMMENT_LENGTH,
    NegativeFeedbackGiven,
    ReopenRequested,
    Survey,
    SurveyAnswered,
    SurveyStatus,
    answer,
    expire,
    new_survey,
)

SENT = datetime(2025, 5, 5, 10, 0, tzinfo=UTC)
LATER = SENT + timedelta(hours=3)


def a_survey() -> Survey:
    return new_survey(survey_id="s-1", ticket_id="t-1", requester_id="p-1", sent_at=SENT)


def test_a_new_survey_is_sent_and_takes_answers_for_two_weeks() -> None:
    survey = a_survey()
    assert survey.status is SurveyStatus.SENT
    assert survey.expires_at == SENT + timedelta(days=14)


def test_an_answer_is_stored_with_its_time() -> None:
    answered, _ = answer(a_survey(), rating=5, resolved=True, comment=" Great! ", now=LATER)
    assert (answered.status, answered.rating, answered.resolved) == (SurveyStatus.ANSWERED, 5, True)
    assert (answered.comment, answered.answered_at) == ("Great!", LATER)


@pytest.mark.parametrize(
    ("rating", "resolved", "kinds"),
    [
        (5, True, [SurveyAnswered]),
        (3, True, [SurveyAnswered]),
        (2, True, [SurveyAnswered, NegativeFeedbackGiven]),
        (1, True, [SurveyAnswered, NegativeFeedbackGiven]),
        (5, False, [SurveyAnswered, NegativeFeedbackGiven, ReopenRequested]),
        (1, False, [SurveyAnswered, NegativeFeedbackGiven, ReopenRequested]),
    ],
)
def test_low_ratings_and_unresolved_issues_are_negative_and_unresolved_ones_reopen(
    rating: int, resolved: bool, kinds: list[type]
) -> None:
    _, events = answer(a_survey(), rating=rating, resolved=resolved, comment="", now=LATER)
    assert [type(e) for e in events] == kinds


def test_negative_feedback_carries_what_the_desk_manager_needs() -> None:
    _, events = answer(a_survey(), rating=1, resolved=False, comment="still broken", now=LATER)
    assert events[1] == NegativeFeedbackGiven("s-1", "t-1", 1, False, "still broken", LATER)
    assert events[2] == ReopenRequested("s-1", "t-1", LATER)


def test_a_second_answer_is_refused() -> None:
    answered, _ = answer(a_survey(), rating=4, resolved=True, comment="", now=LATER)
    with pytest.raises(AlreadyAnswered):
        answer(answered, rating=1, resolved=False, comment="", now=LATER)


def test_a_second_answer_is_refused_as_answered_even_after_expiry() -> None:
    answered, _ = answer(a_survey(), rating=4, resolved=True, comment="", now=LATER)
    with pytest.raises(AlreadyAnswered):
        answer(answered, rating=4, resolved=True, comment="", now=SENT + timedelta(days=30))


@pytest.mark.parametrize(
    "survey",
    [
        replace(a_survey(), status=SurveyStatus.EXPIRED),
        a_survey(),  # not marked yet, but its time is up
    ],
)
def test_an_expired_survey_takes_no_answer(survey: Survey) -> None:
    with pytest.raises(SurveyExpired):
        answer(survey, rating=4, resolved=True, comment="", now=survey.expires_at)


@pytest.mark.parametrize("rating", [0, 6, -1, 10, True])
def test_ratings_outside_one_to_five_are_refused(rating: int) -> None:
    with pytest.raises(InvalidAnswer) as refused:
        answer(a_survey(), rating=rating, resolved=True, comment="", now=LATER)
    assert refused.value.errors == (FieldError("rating", "must be a whole number from 1 to 5"),)


def test_a_comment_of_exactly_the_maximum_length_is_accepted() -> None:
    answered, _ = answer(
        a_survey(), rating=4, resolved=True, comment="x" * MAX_COMMENT_LENGTH, now=LATER
    )
    assert answered.comment is not None
    assert len(answered.comment) == MAX_COMMENT_LENGTH


def test_a_comment_one_character_too_long_is_refused_with_the_rating_problem_too() -> None:
    with pytest.raises(InvalidAnswer) as refused:
        answer(a_survey(), rating=9, resolved=True, comment="x" * 2001, now=LATER)
    assert [e.field for e in refused.value.errors] == ["rating", "comment"]


@pytest.mark.parametrize(("comment", "stored"), [("", None), ("   \n", None), ("ok\x00!", "ok!")])
def test_blank_comments_are_stored_as_none_and_nul_is_dropped(
    comment: str, stored: str | None
) -> None:
    answered, _ = answer(a_survey(), rating=3, resolved=True, comment=comment, now=LATER)
    assert answered.comment == stored


def test_an_unanswered_survey_expires_at_its_expiry_time() -> None:
    survey = a_survey()
    assert expire(survey, survey.expires_at - timedelta(seconds=1)) == survey
    assert expire(survey, survey.expires_at).status is SurveyStatus.EXPIRED


def test_an_answered_survey_never_expires() -> None:
    answered, _ = answer(a_survey(), rating=4, resolved=True, comment="", now=LATER)
    assert expire(answered, SENT + timedelta(days=100)) == answered


@pytest.mark.parametrize(
    ("rating", "resolved", "fields"),
    [
        (None, True, ["rating"]),
        (4, None, ["resolved"]),
        (None, None, ["rating", "resolved"]),
    ],
)
def test_a_field_the_form_left_out_is_named_in_form_order(
    rating: int | None, resolved: bool | None, fields: list[str]
) -> None:
    with pytest.raises(InvalidAnswer) as refused:
        answer(a_survey(), rating=rating, resolved=resolved, comment="", now=LATER)
    assert [e.field for e in refused.value.errors] == fields


def test_a_closed_survey_is_refused_before_its_fields_are_checked() -> None:
    with pytest.raises(SurveyExpired):
        answer(a_survey(), rating=None, resolved=None, comment="", now=SENT + timedelta(days=15))
