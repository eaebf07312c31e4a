"""Field problems found by the escalation domain; the HTTP edge turns them into 422 problems."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One unacceptable field; ``field`` is a dotted path (``reminders.2``) like pydantic's."""

    field: str
    message: str
