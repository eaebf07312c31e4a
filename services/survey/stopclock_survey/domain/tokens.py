"""Survey link tokens: unguessable, URL-safe, compared in constant time.

Store ``token_digest(token)`` rather than the token, and look surveys up by digest:
a leaked table then cannot be used to answer someone else's survey.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MIN_TOKEN_BYTES = 16  # 128 bits of entropy: far beyond guessing, even online


def new_token(random_bytes: bytes) -> str:
    """A URL-safe token (base64url, no padding) from caller-supplied randomness.

    Pass ``secrets.token_bytes(32)``; fewer than 16 bytes is refused.
    """
    if len(random_bytes) < MIN_TOKEN_BYTES:
        raise ValueError(f"a token needs at least {MIN_TOKEN_BYTES} random bytes")
    return base64.urlsafe_b64encode(random_bytes).rstrip(b"=").decode("ascii")


def tokens_match(presented: str, expected: str) -> bool:
    """Constant-time equality, safe for any text a browser may send."""
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def token_digest(token: str) -> str:
    """SHA-256 hex digest of a token, the form to store and index."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
