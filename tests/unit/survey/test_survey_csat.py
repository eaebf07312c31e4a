from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stopclock_survey.domain.csat import (
    NO_SERVICE,
    AnsweredFigures,
    CsatStats,
    ServiceFigures,
    SurveyOutcome,
    csat_of,
    stats,
)


def test_no_survey_sent_gives_no_rates_at_all() -> None:
    assert stats([]) == CsatStats(
        sent=0,
        answered=0,
        response_rate=None,
        csat=None,
        by_service={},
        after_breach=AnsweredFigures(0, None),
        without_breach=AnsweredFigures(0, None),
    )


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [([], None), ([5], 1.0), ([3], 0.0), ([4, 5, 1, 2], 0.5), ([4, 3, 3], 1 / 3)],
)
def test_csat_is_the_share_of_fours_and_fives(ratings: list[int], expected: float | None) -> None:
    assert csat_of(ratings) == expected


def test_figures_split_by_service_and_by_breach() -> None:
    outcomes = [
        SurveyOutcome("mail", after_breach=False, rating=5),
        SurveyOutcome("mail", after_breach=True, rating=2),
        SurveyOutcome("mail", after_breach=False, rating=None),
        SurveyOutcome("vpn", after_breach=True, rating=4),
        SurveyOutcome(None, after_breach=False, rating=None),
    ]
    result = stats(outcomes)
    assert (result.sent, result.answered, result.response_rate) == (5, 3, 0.6)
    assert result.csat == pytest.approx(2 / 3)
    assert result.by_service == {
        NO_SERVICE: ServiceFigures(sent=1, answered=0, csat=None),
        "mail": ServiceFigures(sent=3, answered=2, csat=0.5),
        "vpn": ServiceFigures(sent=1, answered=1, csat=1.0),
    }
    assert result.after_breach == AnsweredFigures(answered=2, csat=0.5)
    assert result.without_breach == AnsweredFigures(answered=1, csat=1.0)


def test_sent_but_unanswered_surveys_lower_the_response_rate_not_the_csat() -> None:
    result = stats([SurveyOutcome("mail", False, 5)] + [SurveyOutcome("mail", False)] * 3)
    assert (result.response_rate, result.csat) == (0.25, 1.0)


outcomes_strategy = st.lists(
    st.builds(
        SurveyOutcome,
        service=st.one_of(st.none(), st.sampled_from(["mail", "vpn", "erp"])),
        after_breach=st.booleans(),
        rating=st.one_of(st.none(), st.integers(1, 5)),
    ),
    max_size=60,
)


def _summed(figures: Mapping[str, ServiceFigures]) -> tuple[int, int]:
    return sum(f.sent for f in figures.values()), sum(f.answered for f in figures.values())


@settings(deadline=None)
@given(outcomes=outcomes_strategy)
def test_rates_stay_between_zero_and_one_and_parts_sum_to_totals(
    outcomes: list[SurveyOutcome],
) -> None:
    result = stats(outcomes)
    for rate in [result.csat, result.response_rate]:
        assert rate is None or 0 <= rate <= 1
    assert all(f.csat is None or 0 <= f.csat <= 1 for f in result.by_service.values())
    assert _summed(result.by_service) == (result.sent, result.answered)
    assert result.after_breach.answered + result.without_breach.answered == result.answered
    assert result.sent == len(outcomes)
    assert (result.csat is None) is (result.answered == 0)


@settings(deadline=None)
@given(outcomes=outcomes_strategy)
def test_the_overall_csat_is_the_answer_weighted_mean_of_the_service_csats(
    outcomes: list[SurveyOutcome],
) -> None:
    result = stats(outcomes)
    satisfied = sum((f.csat or 0) * f.answered for f in result.by_service.values())
    if result.answered:
        assert result.csat == pytest.approx(satisfied / result.answered)
