"""The MIME structure of a mail: its body (plain text preferred, else HTML) and what is
attached, walked without recursion and with bounds so hostile nesting cannot hurt."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from .headers import decoded, first
from .text_safety import clean, decode_bytes, one_line

MAX_DEPTH = 12  # deeper parts are ignored (real mail nests 4-5 levels)
MAX_PARTS = 500
MAX_ATTACHMENTS = 100
_BODY_TYPES = ("text/plain", "text/html")
# parts that are structure, not something the sender attached
_SKIPPED = (
    "message/delivery-status",
    "message/disposition-notification",
    "message/feedback-report",
    "text/rfc822-headers",
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
)
_RETURNED = ("message/rfc822", "message/global", "text/rfc822-headers")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f/\\]")


@dataclass(frozen=True)
class Piece:
    """One body part of the mail, in reading order."""

    subtype: str  # "plain" or "html"
    text: str


@dataclass(frozen=True)
class Attached:
    filename: str
    size: int
    content_type: str
    inline: bool


@dataclass
class Structure:
    pieces: list[Piece] = field(default_factory=list)
    attachments: list[Attached] = field(default_factory=list)
    omitted_attachments: int = 0


def structure(msg: Message) -> Structure:
    out = Structure()
    walked = 0
    # stack of (part, depth); children pushed reversed to keep reading order
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        walked += 1
        if walked > MAX_PARTS:
            break
        ctype = part.get_content_type()
        if part.is_multipart() and ctype.startswith("multipart/"):
            if depth >= MAX_DEPTH:
                continue
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            if ctype == "multipart/alternative":
                children = _one_alternative(children, out)
            elif ctype == "multipart/report":  # the returned copy of our own mail
                children = [c for c in children if c.get_content_type() not in _RETURNED]
            stack += [(child, depth + 1) for child in reversed(children)]
            continue
        _leaf(part, ctype, out)
    return out


def _one_alternative(children: list[Message], out: Structure) -> list[Message]:
    """Of equivalent versions keep plain text (what the client meant as text), else the
    richest other one; attachments of the versions left out are still listed."""
    if not children:
        return []
    chosen = next((c for c in children if c.get_content_type() == "text/plain"), children[-1])
    for other in children:
        if other is not chosen:
            for leaf in _leaves(other):
                if leaf.get_content_type() not in _BODY_TYPES:
                    _leaf(leaf, leaf.get_content_type(), out)
    return [chosen]


def _leaves(part: Message) -> list[Message]:
    found: list[Message] = []
    stack: list[tuple[Message, int]] = [(part, 0)]
    while stack and len(found) < MAX_PARTS:
        current, depth = stack.pop()
        if current.is_multipart() and current.get_content_type().startswith("multipart/"):
            if depth < MAX_DEPTH:
                stack += [(c, depth + 1) for c in current.get_payload() if isinstance(c, Message)]
        else:
            found.append(current)
    return found


def _leaf(part: Message, ctype: str, out: Structure) -> None:
    if ctype in _SKIPPED:
        return
    disposition = _disposition(part)
    filename = _filename(part)
    if ctype in _BODY_TYPES and disposition != "attachment" and not filename:
        out.pieces.append(Piece(ctype.split("/")[1], part_text(part)))
        return
    if len(out.attachments) >= MAX_ATTACHMENTS:
        out.omitted_attachments += 1
        return
    if not filename and ctype == "message/rfc822":
        inner = part.get_payload()
        inner_subject = (
            first(inner[0], "Subject")
            if isinstance(inner, list) and inner and isinstance(inner[0], Message)
            else ""
        ) or "message"
        filename = f"{inner_subject[:100]}.eml"
    out.attachments.append(
        Attached(
            filename=filename or f"unnamed.{ctype.split('/')[-1][:20]}",
            size=_size(part),
            content_type=ctype,
            # shown in the body: declared inline, or referenced by the HTML (Content-ID)
            inline=disposition == "inline" or (disposition is None and "content-id" in part),
        )
    )


def part_text(part: Message) -> str:
    """The decoded text of a leaf part, in its charset (errors replaced)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return clean(raw) if isinstance(raw, str) else ""
    return decode_bytes(payload, _charset(part))


def _charset(part: Message) -> str | None:
    try:
        charset = part.get_param("charset")
    except Exception:
        return None
    return charset if isinstance(charset, str) else None


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except Exception:
        name = ""
    if not isinstance(name, str):  # RFC 2231 tuple left undecoded
        name = str(name[2]) if isinstance(name, tuple) and len(name) == 3 else ""
    if "=?" in name:  # encoded-words inside a parameter: not standard, but Outlook does it
        name = decoded(name)
    return _UNSAFE_NAME.sub("_", one_line(name, 255)).strip()


def _size(part: Message) -> int:
    try:
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            return len(payload)
        inner = part.get_payload()
        if isinstance(inner, list):
            return sum(len(m.as_bytes()) for m in inner if isinstance(m, Message))
        return len(inner) if isinstance(inner, str) else 0
    except Exception:
        return 0
