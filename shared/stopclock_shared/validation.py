"""Field types for HTTP schemas that refuse what no service can use (422 before any work).

- ``EmailAddress``: exactly one addr-spec (``local@domain``), checked by ``email-validator``:
  display names, lists, groups, comments and header injections are refused, so a value can
  never add recipients to our mails. Kept as given, domain lower-cased.
- ``StrictBool``: ``true``/``false`` only (pydantic would take ``"yes"`` or ``0``).
- ``TimeZoneName``: an IANA zone the machine knows (not a folder such as ``Europe``).
- ``LocaleName``: a locale whose language we write in (``fr``, ``fr-CA``).
- ``Int64`` / ``Int32``: integers a PostgreSQL ``bigint``/``integer`` holds.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache
from typing import Annotated

import email_validator
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, StringConstraints
from pydantic import StrictBool as _StrictBool

MAX_EMAIL_LENGTH = 254
# A service desk serves intranets: `.local` domains (Active Directory) are real mailboxes
# there, and `.test` ones are what test set-ups use. email-validator documents editing this
# list in place; the other special-use names (localhost, invalid, onion, arpa) stay refused.
for _intranet in ("local", "test"):
    if _intranet in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove(_intranet)
LOCALES = ("en", "fr")
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def _one_address(value: str) -> str:
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValueError(f"an email address has at most {MAX_EMAIL_LENGTH} characters")
    try:
        checked = validate_email(
            value, check_deliverability=False, allow_display_name=False, allow_smtputf8=True
        )
    except EmailNotValidError as exc:
        raise ValueError(f"not a single email address: {exc}") from None
    return checked.normalized


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _known_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError("unknown time zone: use an IANA name such as Europe/Paris")
    return value


_LOCALE = re.compile(r"^([a-z]{2})(?:[-_][A-Za-z]{2})?$")


def _known_locale(value: str) -> str:
    match = _LOCALE.match(value)
    if match is None or match.group(1) not in LOCALES:
        raise ValueError(
            f"unknown locale: a language we write in ({', '.join(LOCALES)}), "
            "optionally with a region (fr-CA)"
        )
    return value


EmailAddress = Annotated[str, AfterValidator(_one_address)]
StrictBool = _StrictBool
TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_zone)]
LocaleName = Annotated[str, AfterValidator(_known_locale)]
Int64 = Annotated[int, Field(ge=-INT64_MAX - 1, le=INT64_MAX)]
Int32 = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]
