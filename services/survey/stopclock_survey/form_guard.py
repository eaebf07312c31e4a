"""CSRF protection of the survey form.

The unguessable link token already binds the form to one survey; on top of it:

- a hidden form token, HMAC-SHA256 of the link token under the service's secret, so a
  POST must come from a page we rendered (a forged cross-site form cannot know it
  without the link, and with the link it could only answer that survey once);
- ``Origin`` (or, without it, ``Referer``) must name this site when the browser sends it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit

_PURPOSE = b"stopclock-survey-form|"


def form_token(secret: str, link_token: str) -> str:
    """The hidden field of the form served for ``link_token``."""
    mac = hmac.new(secret.encode("utf-8"), _PURPOSE + link_token.encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()


def form_token_ok(secret: str, link_token: str, presented: str | None) -> bool:
    """Constant-time check of the hidden field."""
    if not presented:
        return False
    expected = form_token(secret, link_token)
    return hmac.compare_digest(expected.encode("ascii"), presented.encode("utf-8", "replace"))


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-cased; None when it has none."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_site(origin: str | None, referer: str | None, allowed: Iterable[str]) -> bool:
    """True unless the browser says the form was sent from another site.

    ``Origin: null`` (privacy modes, some redirects) and a missing header say nothing,
    so they pass; the form token still has to match.
    """
    allowed_origins = {a.lower().rstrip("/") for a in allowed}
    if origin and origin != "null":
        return origin.lower().rstrip("/") in allowed_origins
    if referer:
        return origin_of(referer) in allowed_origins
    return True
