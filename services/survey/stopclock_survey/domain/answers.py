"""A requester's answer on the answer page, turned into what the ticket service is asked.

The answer is the requester's public comment (the ticket service's comment rule then puts
a waiting ticket back in progress and the SLA clock restarts). On a ``user_validation``
wait the requester picks "yes, it works" or "no, it still fails"; the comment starts with
that choice, and "yes" also asks to resolve the ticket as confirmed by the requester.
"""

from __future__ import annotations

from dataclasses import dataclass

from stopclock_shared.errors import FieldError

from .errors import InvalidAnswer
from .survey import clean_comment
from .waits import USER_VALIDATION

ANSWERS = ("yes", "no")
# Room for a real answer (steps tried, an error message); a form is not a file upload.
MAX_ANSWER_LENGTH = 5000
# The desk reads these; they open the requester's comment in the desk's language.
YES_PREFIX = "Yes, it works."
NO_PREFIX = "No, it still fails."
CONFIRMED_RESOLUTION = "Confirmed by the requester: it works."


@dataclass(frozen=True, slots=True)
class Reply:
    """What an accepted answer asks of the ticket service, in this order."""

    comment: str  # the requester's public comment (channel ``page``)
    resolve: bool  # then resolve, confirmed by the requester


def choice_of(value: str | None) -> str | None:
    """``yes`` / ``no`` from a form or link value, anything else None."""
    text = (value or "").strip().lower()
    return text if text in ANSWERS else None


def take_answer(waiting_reason: str, answer: str | None, comment: str) -> Reply:
    """The reply to a wait for ``waiting_reason``; raises ``InvalidAnswer`` naming the fields.

    A validation wait needs the choice (the comment is optional); any other wait needs
    the comment, and a choice sent with it is ignored.
    """
    text = clean_comment(comment)
    validation = waiting_reason == USER_VALIDATION
    errors: list[FieldError] = []
    if validation and answer not in ANSWERS:
        errors.append(FieldError("answer", "choose yes or no"))
    if not validation and text is None:
        errors.append(FieldError("comment", "write your answer"))
    if text is not None and len(text) > MAX_ANSWER_LENGTH:
        errors.append(FieldError("comment", f"must be at most {MAX_ANSWER_LENGTH} characters"))
    if errors:
        raise InvalidAnswer(tuple(errors))
    if not validation:
        assert text is not None
        return Reply(comment=text, resolve=False)
    prefix = YES_PREFIX if answer == "yes" else NO_PREFIX
    body = f"{prefix}\n\n{text}" if text else prefix
    return Reply(comment=body, resolve=answer == "yes")
