import pytest

from stopclock_survey.domain.eligibility import should_survey


@pytest.mark.parametrize(
    ("reason", "surveyed"),
    [
        ("no_response", False),
        (None, True),
        ("fixed", True),
        ("workaround", True),
    ],
)
def test_only_tickets_resolved_for_lack_of_response_are_not_surveyed(
    reason: str | None, surveyed: bool
) -> None:
    assert should_survey(reason) is surveyed
