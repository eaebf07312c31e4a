"""Refusals raised by domain rules and use cases, free of HTTP.

The HTTP edge maps them to RFC 9457 problems once, for every service
(`problems.install_problem_handlers`): `NotFound` 404, `Forbidden` 403, `Conflict` 409,
`Gone` 410, `Invalid` 422. A service subclasses them for its own refusals (e.g. the ticket
lifecycle's `InvalidTransition` is a `Conflict`), so a use case never names a status code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    """One unacceptable field; ``field`` is a dotted path (``targets.resolution.seconds``)."""

    field: str
    message: str


class DomainError(Exception):
    """Base of every refusal. ``title`` names the kind; ``detail`` says what and why;
    ``extra`` adds members to the problem document (e.g. ``allowed`` transitions)."""

    title = "Refused"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    title = "Not found"

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident} does not exist")


class Forbidden(DomainError):
    title = "Forbidden"


class Conflict(DomainError):
    title = "Conflict"


class Gone(DomainError):
    title = "Gone"


class Invalid(DomainError):
    """Every field problem found at once, so a client fixes them in one go."""

    title = "Validation error"

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors) or "invalid")

    @classmethod
    def field(cls, field: str, message: str) -> Invalid:
        """A single field problem."""
        return cls((FieldError(field, message),))
