"""Strings that leave the inbound domain are valid UTF-8 without NUL and of bounded size.

Mail is bytes in any (or a wrong) charset; PostgreSQL refuses NUL and lone surrogates, so every
string is cleaned here once rather than at each use.
"""

from __future__ import annotations

import codecs
import re

TRUNCATED = "[truncated]"
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]{1,3}")


def clean(text: str) -> str:
    """``text`` as valid UTF-8: raw bytes kept by the parser are decoded as UTF-8 (with
    replacement), lone surrogates replaced, NUL removed."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates that are not escaped bytes
        raw = text.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace").replace("\x00", "")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of ``data`` in its declared charset; a wrong or unknown charset never raises.

    Order: the declared charset strictly, then UTF-8 strictly (a common lie is "us-ascii"
    on UTF-8 text); if neither fits, a declared single-byte charset with replacement, else
    UTF-8 with replacement when the bytes hold UTF-8 sequences (a few broken bytes) and
    cp1252 when they hold none (Windows text labelled UTF-8 or not labelled at all).
    """
    codec = _text_codec(charset)
    for name in (codec, "utf-8"):
        if name is None:
            continue
        try:
            return clean(data.decode(name))
        except (UnicodeError, LookupError, ValueError):
            continue
    if codec not in (None, "utf-8", "ascii"):
        return clean(data.decode(codec, "replace"))
    fallback = "utf-8" if _UTF8_SEQUENCE.search(data) else "cp1252"
    return clean(data.decode(fallback, "replace"))


def _text_codec(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        info = codecs.lookup(charset.strip().strip('"').lower())
    except (LookupError, ValueError, TypeError):
        return None
    # bytes-to-bytes codecs ("base64", "zlib") are not charsets
    return info.name if getattr(info, "_is_text_encoding", True) else None


def one_line(text: str, limit: int) -> str:
    """Whitespace runs (folding included) as one space, at most ``limit`` characters."""
    return " ".join(clean(text).split())[:limit]


def bounded(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to about ``limit`` characters at a line or word end, with a visible
    marker; returns (text, whether it was cut)."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    cut = max(head.rfind("\n"), head.rfind(" "))
    if cut > limit - 200:
        head = head[:cut]
    return head.rstrip() + "\n" + TRUNCATED, True
