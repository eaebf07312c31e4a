"""Deterministic Message-ID headers, so a mail re-sent after a crash is recognisably the same."""

import hashlib

DEFAULT_MESSAGE_ID_DOMAIN = "stopclock.local"


def message_id_for(
    event_id: str, kind: str, recipient: str, *, domain: str = DEFAULT_MESSAGE_ID_DOMAIN
) -> str:
    """The RFC 5322 Message-ID of the mail of `kind` that event `event_id` causes for `recipient`.

    The same inputs always give the same id; the address is compared case-insensitively.
    """
    key = f"{event_id}\x1f{kind}\x1f{recipient.strip().lower()}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{domain}>"
