"""Header values of a parsed mail, decoded without ever raising.

Values are read raw (``raw_items``) and decoded here: the standard library's lazy header
objects raise on some broken input (e.g. ``From: a@``), which must not crash a reading.
"""

from __future__ import annotations

import re
from email import policy
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses

from .text_safety import clean, decode_bytes, one_line

_MSGID = re.compile(r"<[^<>\s]{1,500}>")
_BARE_MSGID = re.compile(r"[^<>\s@]{1,250}@[^<>\s@]{1,250}")
# an addr-spec we accept: something@domain, no spaces or address punctuation
_ADDR_SPEC = re.compile(r"""[^@\s<>()\[\]\\,;:"]{1,64}@[^@\s<>()\[\]\\,;:"]{1,255}""")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_MAX_HEADER = 4000


def raw_values(msg: Message, name: str) -> list[str]:
    """Every raw value of header ``name`` (case-insensitive), in order."""
    wanted = name.lower()
    values: list[str] = []
    for key, value in msg.raw_items():
        if str(key).lower() == wanted:
            values.append(str(value))
    return values


def first(msg: Message, name: str) -> str:
    """The first value of ``name``, decoded (encoded-words) and unfolded; "" if absent."""
    values = raw_values(msg, name)
    return decoded(values[0]) if values else ""


def decoded(raw: str) -> str:
    """A header value with RFC 2047 encoded-words decoded, unfolded, on one line."""
    unfolded = _FOLD.sub("", raw[:_MAX_HEADER])
    try:
        chunks = decode_header(unfolded)
    except Exception:  # malformed encoded-words: keep the text as it came
        return one_line(unfolded, _MAX_HEADER)
    text = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            # unencoded runs come back as raw-unicode-escape bytes
            text.append(
                decode_bytes(chunk, charset)
                if charset
                else chunk.decode("raw-unicode-escape", "replace")
            )
        else:
            text.append(chunk)
    return one_line("".join(text), _MAX_HEADER)


def addresses(msg: Message, *names: str) -> list[tuple[str, str]]:
    """(display name, lower-cased addr-spec) of every address in the headers ``names``,
    group syntax flattened, invalid addresses left out."""
    found: list[tuple[str, str]] = []
    for name in names:
        for raw in raw_values(msg, name):
            found += _parse_addresses(clean(_FOLD.sub("", raw[:_MAX_HEADER])))
    return found


def _parse_addresses(value: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]]
    try:
        header = policy.default.header_factory("to", value)
        pairs = [(a.display_name, a.addr_spec) for a in header.addresses]
    except Exception:  # the strict parser gave up: fall back to the lenient one
        try:
            pairs = [(decoded(n), a) for n, a in getaddresses([value])]
        except Exception:
            pairs = []
    out: list[tuple[str, str]] = []
    for name, addr in pairs:
        addr = clean(addr).strip().strip("<>").lower()
        if _ADDR_SPEC.fullmatch(addr) and not addr.startswith(".") and "." != addr[-1]:
            out.append((one_line(name, 200), addr))
    return out


def message_ids(value: str) -> list[str]:
    """The ``<id>`` tokens of a Message-ID/In-Reply-To/References value, in order, once each.
    A lone id without angle brackets (some broken clients) is accepted too."""
    value = clean(value)
    ids = _MSGID.findall(value)
    if not ids:
        bare = _BARE_MSGID.search(value)
        ids = [f"<{bare.group(0)}>"] if bare else []
    return list(dict.fromkeys(ids))
