"""Domain refusals become problem documents with the status of their kind, in one place."""

from __future__ import annotations

import pytest

from stopclock_shared.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
)
from stopclock_shared.problems import problem_of


class AlreadyAnswered(Conflict):
    title = "Already answered"


@pytest.mark.parametrize(
    ("error", "status", "title"),
    [
        (NotFound("Ticket", "t-1"), 404, "Not found"),
        (Forbidden("requesters may only see their own tickets"), 403, "Forbidden"),
        (Conflict("cannot go from new to closed"), 409, "Conflict"),
        (Gone("the wait is over"), 410, "Gone"),
        (Invalid.field("rating", "between 1 and 5"), 422, "Validation error"),
        (AlreadyAnswered("answered on 3 December"), 409, "Already answered"),
        (DomainError("refused"), 400, "Refused"),
    ],
)
def test_each_kind_has_its_status(error: DomainError, status: int, title: str) -> None:
    problem = problem_of(error)
    assert (problem.status, problem.title) == (status, title)
    assert problem.detail == error.detail


def test_invalid_lists_every_field() -> None:
    error = Invalid([FieldError("a", "missing"), FieldError("b.c", "too long")])
    problem = problem_of(error)
    assert problem.errors == [
        {"field": "a", "message": "missing"},
        {"field": "b.c", "message": "too long"},
    ]
    assert error.detail == "a: missing; b.c: too long"


def test_extra_members_reach_the_problem() -> None:
    problem = problem_of(Conflict("no", allowed=["assigned"]))
    assert problem.extra == {"allowed": ["assigned"]}


def test_not_found_names_what_and_which() -> None:
    assert NotFound("Survey", "s-9").detail == "Survey s-9 does not exist"
