"""From the bytes of a mail to ``InboundMail``. (First cut: the domain helper refines the
quote stripping, auto-reply and bounce detection behind this same interface.)"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

_NUMBER = re.compile(r"\b(INC|REQ)(\d{7,})\b", re.IGNORECASE)
_MSGID = re.compile(r"<[^<>\s]+>")


class MalformedMail(ValueError):
    """The bytes are not a mail we can read (no sender, broken MIME, ...)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    size: int
    content_type: str


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


def ticket_numbers(subject: str) -> list[str]:
    """Ticket numbers named in a subject, upper-cased, in order, without repeats."""
    seen: list[str] = []
    for prefix, digits in _NUMBER.findall(subject or ""):
        number = f"{prefix.upper()}{digits}"
        if number not in seen:
            seen.append(number)
    return seen


def _addr(value: str) -> tuple[str, str]:
    pairs = getaddresses([value])
    for name, address in pairs:
        if "@" in address:
            return name, address.strip().lower()
    return "", ""


def _plain_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content()
    return text if isinstance(text, str) else ""


def read_mail(raw: bytes) -> InboundMail:
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        name, sender = _addr(str(msg.get("From", "")))
    except Exception as exc:  # any parser failure is a malformed mail
        raise MalformedMail(f"cannot parse: {exc}") from exc
    if not sender:
        raise MalformedMail("no sender address in From")
    recipients: list[str] = []
    for header in ("To", "Cc", "Delivered-To"):
        for value in msg.get_all(header, []):
            recipients += [a.lower() for _, a in getaddresses([str(value)]) if "@" in a]
    refs = _MSGID.findall(str(msg.get("In-Reply-To", ""))) + _MSGID.findall(
        str(msg.get("References", ""))
    )
    message_id = _MSGID.search(str(msg.get("Message-ID", "")))
    return InboundMail(
        message_id=message_id.group(0) if message_id else None,
        sender=sender,
        sender_name=name or Address(addr_spec=sender).username,
        recipients=tuple(dict.fromkeys(recipients)),
        subject=str(msg.get("Subject", "")),
        in_reply_to=tuple(dict.fromkeys(refs)),
        new_text=_plain_text(msg).strip(),
        headers={k.lower(): str(v) for k, v in msg.items()},
    )
