"""Signed references that travel in our mails and come back: reply addresses and answer links.

Both are verified with an HMAC under the services' shared link secret, without a lookup, and
cannot be guessed or altered:

- **Reply address** (``Reply-To`` of every mail to a requester):
  ``<desk local part>+<tag>@<desk domain>``. The tag names the ticket and a digest of the
  recipient's address, so a reply tells us which ticket it answers and whether its sender is
  the person we wrote to. The tag is lower-case base32: mail systems may change the case of a
  local part, and 45 characters keep ``servicedesk+<tag>`` inside the 64 that RFC 5321 allows.
- **Answer token** (``/a/{token}`` on the requester's pages): names the ticket and the wait it
  was made for (the time the wait began), so a link from an earlier wait never answers a new
  one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_REPLY_PURPOSE = b"stopclock-reply|"
_ANSWER_PURPOSE = b"stopclock-answer|"
_KEY_PURPOSE = b"stopclock-links"
_RCPT_BYTES = 4  # recipient digest: tells the requester from another person, not a secret
_REPLY_MAC_BYTES = 8  # 64 bits: an online guesser needs ~2^63 mails
_ANSWER_MAC_BYTES = 16
MAX_LOCAL_PART = 64
_TAG_CHARS = 45  # base32 of 16 + 4 + 8 bytes, unpadded
REPLY_LOCAL_PART_ROOM = MAX_LOCAL_PART - 1 - _TAG_CHARS  # the desk's own local part, at most
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def link_key(secret: str) -> bytes:
    """The HMAC key for links, derived from a configured secret (never the secret itself)."""
    return hmac.new(secret.encode("utf-8"), _KEY_PURPOSE, hashlib.sha256).digest()


def _mac(key: bytes, purpose: bytes, body: bytes, size: int) -> bytes:
    return hmac.new(key, purpose + body, hashlib.sha256).digest()[:size]


def recipient_digest(address: str) -> bytes:
    """A short digest of an address, compared case-insensitively."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).digest()[:_RCPT_BYTES]


# -- reply addresses ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplyTag:
    """What a verified reply address says."""

    ticket_id: uuid.UUID
    recipient: bytes  # ``recipient_digest`` of the address the mail was sent to

    def sent_to(self, address: str) -> bool:
        """True when ``address`` is the one our mail went to."""
        return hmac.compare_digest(self.recipient, recipient_digest(address))


def reply_tag(key: bytes, ticket_id: uuid.UUID, recipient: str) -> str:
    body = ticket_id.bytes + recipient_digest(recipient)
    raw = body + _mac(key, _REPLY_PURPOSE, body, _REPLY_MAC_BYTES)
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def reply_address(key: bytes, desk_address: str, ticket_id: uuid.UUID, recipient: str) -> str:
    """``local+tag@domain`` for a mail about ``ticket_id`` sent to ``recipient``."""
    local, _, domain = desk_address.rpartition("@")
    address_local = f"{local}+{reply_tag(key, ticket_id, recipient)}"
    if len(address_local) > MAX_LOCAL_PART:
        raise ValueError(f"desk address local part {local!r} is too long for reply addresses")
    return f"{address_local}@{domain}"


def read_reply_tag(key: bytes, tag: str) -> ReplyTag | None:
    """The verified content of a tag, or None for anything we did not sign."""
    text = tag.strip().upper()
    if not text or len(text) > 64:
        return None
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 16 + _RCPT_BYTES + _REPLY_MAC_BYTES:
        return None
    body, mac = raw[: 16 + _RCPT_BYTES], raw[16 + _RCPT_BYTES :]
    if not hmac.compare_digest(mac, _mac(key, _REPLY_PURPOSE, body, _REPLY_MAC_BYTES)):
        return None
    return ReplyTag(uuid.UUID(bytes=body[:16]), body[16:])


def read_reply_address(key: bytes, desk_address: str, address: str) -> ReplyTag | None:
    """The tag of ``address`` when it is a reply address of our desk (any case), else None."""
    local, _, domain = address.strip().rpartition("@")
    desk_local, _, desk_domain = desk_address.rpartition("@")
    base, plus, tag = local.partition("+")
    if not plus or base.lower() != desk_local.lower() or domain.lower() != desk_domain.lower():
        return None
    return read_reply_tag(key, tag)


# -- answer tokens -----------------------------------------------------------------------------
@dataclass(frozen=True)
class AnswerRef:
    """What a verified answer token says: the ticket, and when the wait it answers began."""

    ticket_id: uuid.UUID
    waiting_since: datetime


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICRO


def answer_token(key: bytes, ticket_id: uuid.UUID, waiting_since: datetime) -> str:
    """The token of the answer page for the wait of ``ticket_id`` begun at ``waiting_since``."""
    body = ticket_id.bytes + _micros(waiting_since).to_bytes(8, "big", signed=True)
    raw = body + _mac(key, _ANSWER_PURPOSE, body, _ANSWER_MAC_BYTES)
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def read_answer_token(key: bytes, token: str) -> AnswerRef | None:
    """The verified content of an answer token, or None for anything we did not sign."""
    if not token or len(token) > 80 or not token.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 24 + _ANSWER_MAC_BYTES:
        return None
    body, mac = raw[:24], raw[24:]
    if not hmac.compare_digest(mac, _mac(key, _ANSWER_PURPOSE, body, _ANSWER_MAC_BYTES)):
        return None
    micros = int.from_bytes(body[16:], "big", signed=True)
    try:
        since = _EPOCH + micros * _MICRO
    except OverflowError:
        return None
    return AnswerRef(uuid.UUID(bytes=body[:16]), since)


def same_wait(a: datetime, b: datetime) -> bool:
    """True when two times name the same wait (to the microsecond, as tokens carry it)."""
    return _micros(a) == _micros(b)
