"""What a subject says: the ticket numbers it names, and whether it is a forward."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"\b(INC|REQ)(\d{7,})\b", re.IGNORECASE)
# "Fwd:", "FW:", "TR:" (French Outlook), "WG:" (German), "RV:" (Spanish), "I:" (Italian),
# "Doorst:" (Dutch), "Enc:" (Portuguese), after any "Re:" prefixes
_FORWARD = re.compile(
    r"^\s*((re|aw|sv|antw|r|rif)\s*:\s*)*(fwd?|tr|wg|rv|i|doorst|enc)\s*:", re.IGNORECASE
)


def ticket_numbers(subject: str) -> list[str]:
    """Ticket numbers named in a subject, upper-cased, in order, without repeats."""
    seen: list[str] = []
    for prefix, digits in _NUMBER.findall(subject or ""):
        number = f"{prefix.upper()}{digits}"
        if number not in seen:
            seen.append(number)
    return seen


def is_forward_subject(subject: str) -> bool:
    return bool(_FORWARD.match(subject or ""))
