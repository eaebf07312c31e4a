"""Refusals of the survey domain, as the shared domain errors (``stopclock_shared.errors``).

The pages answer them politely (a page in the requester's language); anywhere else the
shared problem handlers map them (409, 410, 422, 404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stopclock_shared.errors import Conflict, Gone, Invalid, NotFound

if TYPE_CHECKING:
    from .waits import Verdict


class UnknownLink(NotFound):
    """No survey or ticket behind a link (a forged, damaged or foreign one)."""

    def __init__(self, what: str) -> None:
        super().__init__(what, "of this link")


class AlreadyAnswered(Conflict):
    """The survey was answered before; a survey stores one answer only."""


class SurveyExpired(Gone):
    """The survey is past its expiry and no longer takes answers."""


class InvalidAnswer(Invalid):
    """The answer has field problems (the form comes back saying what to fix)."""


class WaitClosed(Conflict):
    """The wait of an answer link takes no answer (any more); ``verdict`` says why."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(f"the wait takes no answer: {verdict.kind.value}")
        self.verdict = verdict
