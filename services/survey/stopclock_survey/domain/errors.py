"""Refusals of the survey domain; the HTTP edge answers them politely (page) or as problems."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One unacceptable form field, named as on the form (``rating``, ``comment``)."""

    field: str
    message: str


class SurveyError(Exception):
    """Base of every refusal raised by the survey domain."""


class AlreadyAnswered(SurveyError):
    """The survey was answered before; a survey stores one answer only (HTTP 409)."""


class SurveyExpired(SurveyError):
    """The survey is past its expiry and no longer takes answers (HTTP 409/410)."""


class InvalidAnswer(SurveyError):
    """The answer has field problems (HTTP 422, or the form shown again with messages)."""

    def __init__(self, errors: tuple[FieldError, ...]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
