"""From the bytes of a mail to ``InboundMail``: the one entry point of the inbound domain.

Every step below is bounded and total; whatever still goes wrong (the standard library's
parser has corners that raise on hostile input) becomes ``MalformedMail``, so the receiver
records a rejection instead of crashing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser

from .auto_reply import automatic
from .bounces import Failure, Notice, delivery_report
from .headers import addresses, decoded, first, message_ids, raw_values
from .html_text import html_to_text
from .parts import Piece, Structure, structure
from .reply_text import new_words, normalised
from .subjects import is_forward_subject
from .text_safety import bounded, clean

MAX_NEW_TEXT = 20_000  # characters of a mail's new text kept (then "[truncated]")
_MAX_BODY = 1_000_000  # characters of body looked at (history is cut from far less)
_MAX_SUBJECT = 998
_MAX_HEADER_VALUE = 2000


class MalformedMail(ValueError):
    """The bytes are not a mail we can read (no sender, broken MIME, ...)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    size: int  # bytes, decoded
    content_type: str
    inline: bool = False  # shown in the body (signature logos, pasted images), not attached


@dataclass(frozen=True)
class Bounce:
    """A delivery status notification about a mail we sent."""

    original_message_id: str | None  # Message-ID of our mail, with angle brackets
    recipient: str | None  # the address that failed
    status: str | None  # DSN status code, e.g. "5.1.1"
    reason: str  # human-readable diagnostic


@dataclass(frozen=True)
class InboundMail:
    message_id: str | None  # with angle brackets, as in the header
    sender: str  # the From addr-spec, lower-cased
    sender_name: str
    recipients: tuple[str, ...]  # To + Cc + Delivered-To addr-specs, lower-cased
    subject: str
    in_reply_to: tuple[str, ...]  # Message-IDs named by In-Reply-To, then References
    new_text: str  # only the new words: quoted history and signature removed
    attachments: tuple[Attachment, ...] = ()
    auto_reply: str | None = None  # why it is an automatic reply (header or subject), or None
    bounce: Bounce | None = None
    headers: dict[str, str] = field(default_factory=dict, compare=False)
    # the automatic reply is an absence notice (out of office): the requester is away
    out_of_office: bool = False
    # no new words were found (the mail is all quote, or only a signature): ``new_text`` is
    # then the whole text as received rather than nothing, so no words are ever lost
    quoted_only: bool = False
    truncated: bool = False  # new_text was cut at MAX_NEW_TEXT characters


def read_mail(raw: bytes) -> InboundMail:
    """The facts of the mail in ``raw``; raises ``MalformedMail`` and nothing else."""
    try:
        return _read(bytes(raw))
    except MalformedMail:
        raise
    except Exception as exc:  # RecursionError, parser corner cases: a rejection, not a crash
        raise MalformedMail(f"unreadable mail: {type(exc).__name__}") from exc


def _read(raw: bytes) -> InboundMail:
    msg = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\x00", b""))
    senders = addresses(msg, "from")
    if not senders:
        raise MalformedMail("no sender address in From")
    name, sender = senders[0]
    subject = first(msg, "subject")[:_MAX_SUBJECT]
    decoded_headers = _headers(msg)

    parts = structure(msg)
    report = delivery_report(msg, raw, sender, name, subject)
    bounce = Bounce(**vars(report)) if isinstance(report, Failure) else None
    auto_reply: str | None = None
    out_of_office = False
    if isinstance(report, Notice):
        auto_reply = f"delivery status notification ({report.action})"
    elif bounce is None:
        found = automatic(decoded_headers, subject, sender, msg.get_content_type())
        if found:
            auto_reply, out_of_office = found.reason, found.out_of_office

    text, quoted_only = _new_text(parts, forwarded=is_forward_subject(subject))
    text, truncated = bounded(text, MAX_NEW_TEXT)
    refs = message_ids(" ".join(raw_values(msg, "in-reply-to"))) + message_ids(
        " ".join(raw_values(msg, "references"))
    )
    own_ids = message_ids(" ".join(raw_values(msg, "message-id")))
    recipients = [a for _, a in addresses(msg, "to", "cc", "delivered-to")]
    return InboundMail(
        message_id=own_ids[0] if own_ids else None,
        sender=sender,
        sender_name=name or sender.split("@")[0],
        recipients=tuple(dict.fromkeys(recipients)),
        subject=subject,
        in_reply_to=tuple(dict.fromkeys(refs)),
        new_text=text,
        attachments=tuple(
            Attachment(a.filename, a.size, a.content_type, a.inline) for a in parts.attachments
        ),
        auto_reply=auto_reply,
        bounce=bounce,
        headers={k: v[0][:_MAX_HEADER_VALUE] for k, v in decoded_headers.items()},
        out_of_office=out_of_office,
        quoted_only=quoted_only,
        truncated=truncated,
    )


def _headers(msg: Message) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in msg.raw_items():
        out.setdefault(clean(str(key)).strip().lower(), []).append(decoded(str(value)))
    return out


def _new_text(parts: Structure, *, forwarded: bool) -> tuple[str, bool]:
    """(new words, whether the mail had none and the whole text is kept instead)."""
    words = [
        new_words(_reply_text(piece, forwarded), forwarded=forwarded, budget=MAX_NEW_TEXT)
        for piece in parts.pieces
    ]
    text = normalised("\n\n".join(w for w in words if w))
    if text:
        return text, False
    whole = [_whole_text(piece) for piece in parts.pieces]
    everything = normalised("\n\n".join(w for w in whole if w))
    return everything, bool(everything)


def _reply_text(piece: Piece, forwarded: bool) -> str:
    if piece.subtype == "html":
        return html_to_text(piece.text[:_MAX_BODY], drop_history=not forwarded)
    return piece.text[:_MAX_BODY]


def _whole_text(piece: Piece) -> str:
    if piece.subtype == "html":
        return html_to_text(piece.text[:_MAX_BODY], drop_history=False)
    return piece.text[:_MAX_BODY]
