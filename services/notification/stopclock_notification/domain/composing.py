"""Writing a mail to bytes: the SMTP envelope and a multipart message, headers written
directly (the stdlib only for what needs encoding or folding), deterministic for a given
Message-ID, so a re-send is byte-for-byte the same mail."""

from __future__ import annotations

import binascii
import email.policy
import functools
import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import BaseHeader, HeaderRegistry
from email.utils import format_datetime, formataddr, parseaddr

from stopclock_notification.domain.rendering import RenderedMail
from stopclock_shared.links import reply_address


class _CachingHeaderRegistry(HeaderRegistry):
    """The stdlib registry builds a new header class on every lookup (most of the cost of
    composing a mail); build each class once."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        found = self._classes.get(key)
        if found is None:
            found = self._classes[key] = super().__getitem__(name)
        return found


# email.policy.default (strict headers: a line break in a value is refused), only faster.
MAIL_POLICY = email.policy.default.clone(header_factory=_CachingHeaderRegistry())


@dataclass(frozen=True)
class OutgoingMail:
    """A written mail: the SMTP envelope (``sender``, ``recipients``) and the message bytes."""

    sender: str
    recipients: tuple[str, ...]
    message_id: str
    data: bytes


# A header value written as it is: printable ASCII words with single spaces, nothing that
# could read as an RFC 2047 encoded word. Anything else goes through the stdlib policy
# (encoding, folding, and the refusal of line breaks).
_VERBATIM = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
# A bare address (what mail rows hold), written and used as the SMTP recipient as it is.
_BARE_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
_MAX_LINE = 78
# A Message-ID as we repeat it in In-Reply-To/References: one <left@right> of printable ASCII.
# Anything else (from a foreign mail) is not repeated: threading is a courtesy, the mail is not.
_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,900}>")
DEFAULT_DESK_NAME = "Stopclock Service Desk"


def _header(name: str, value: str) -> str:
    """``Name: value`` and a line break, folded and encoded as ``email.policy.default`` does
    whenever the value is not plain short ASCII; raises ValueError on a line break."""
    if len(name) + len(value) + 2 <= _MAX_LINE and "=?" not in value and _VERBATIM.fullmatch(value):
        return f"{name}: {value}\n"
    return str(_parsed(name, value).fold(policy=MAIL_POLICY))


def _parsed(name: str, value: str) -> BaseHeader:
    header = MAIL_POLICY.header_store_parse(name, value)[1]
    assert isinstance(header, BaseHeader)
    return header


@functools.lru_cache(maxsize=64)
def _address_header(name: str, value: str) -> tuple[str, tuple[str, ...]]:
    """An address header (the configured sender: parsed once) and its addresses."""
    header = _parsed(name, value)
    addresses = getattr(header, "addresses", ())
    return str(header.fold(policy=MAIL_POLICY)), tuple(a.addr_spec for a in addresses)


def _recipient(recipient: str) -> tuple[str, tuple[str, ...]]:
    if _BARE_ADDRESS.fullmatch(recipient) and len(recipient) <= _MAX_LINE - 4:
        return f"To: {recipient}\n", (recipient,)
    header = _parsed("To", recipient)
    addresses = getattr(header, "addresses", ())
    return str(header.fold(policy=MAIL_POLICY)), tuple(a.addr_spec for a in addresses)


def _address_line(name: str, address: str) -> str:
    """An address header of one bare address we made (a reply address): as it is, on the
    next line when long, as the stdlib folds it; anything unusual goes through the stdlib."""
    if not _BARE_ADDRESS.fullmatch(address):
        return str(_parsed(name, address).fold(policy=MAIL_POLICY))
    if len(name) + len(address) + 2 <= _MAX_LINE:
        return f"{name}: {address}\n"
    return f"{name}:\n {address}\n"


def _ids_line(name: str, ids: Sequence[str]) -> str:
    """A header of Message-IDs, folded between ids (never inside one, unlike the stdlib)."""
    line, lines = f"{name}:", []
    for message_id in ids:
        if len(line) + 1 + len(message_id) > _MAX_LINE and line != f"{name}:":
            lines.append(line)
            line = ""
        line += f" {message_id}"
    lines.append(line)
    return "\n".join(lines) + "\n"


def threading_of(context: Mapping[str, object]) -> str | None:
    """The Message-ID a mail answers (the requester's mail that opened the ticket), if valid."""
    found = context.get("in_reply_to") if isinstance(context, Mapping) else None
    if isinstance(found, str) and _MESSAGE_ID.fullmatch(found.strip()):
        return found.strip()
    return None


def reply_to_of(key: bytes, desk_address: str, ticket_id: str | None, recipient: str) -> str | None:
    """The signed reply address of a mail about ``ticket_id`` to ``recipient`` (one HMAC),
    so a reply comes back to that ticket; None for a mail about no ticket."""
    if not ticket_id:
        return None
    try:
        ticket = uuid.UUID(ticket_id)
    except ValueError:
        return None  # not one of our tickets' ids: nothing a reply could be threaded to
    return reply_address(key, desk_address, ticket, recipient)


def desk_sender(mail_from: str, desk_address: str) -> str:
    """The From of every mail: the desk's address, under the configured display name."""
    name, _ = parseaddr(mail_from)
    return formataddr((name or DEFAULT_DESK_NAME, desk_address))


def _text_part(content_type: str, text: str) -> str:
    body = binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii")
    return (
        f'Content-Type: {content_type}; charset="utf-8"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n"
        f"{body}\n"
    )


def compose(
    mail: RenderedMail,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    date: datetime,
    kind: str,
    locale: str,
    ticket_id: str | None,
    domain: str,
    reply_to: str | None = None,
    in_reply_to: str | None = None,
) -> OutgoingMail:
    """The multipart (text, then HTML alternative) message; raises ValueError on bad headers.

    Written directly rather than through ``EmailMessage`` (whose header parsing and
    re-folding cost more than the rest of a send): plain ASCII headers as they are, others
    encoded by the stdlib policy, both parts quoted-printable UTF-8, and a boundary derived
    from the Message-ID, so a re-send is byte-for-byte the same mail.
    ``reply_to``: the signed reply address of the ticket and recipient (replies come back to
    the ticket); ``in_reply_to``: the Message-ID of the mail this one answers (a valid one,
    see ``threading_of``).
    """
    from_header, senders = _address_header("From", sender)
    to_header, recipients = _recipient(recipient)
    if not senders or not recipients:
        raise ValueError(f"no address in From {sender!r} or To {recipient!r}")
    # "=_" never occurs in quoted-printable text, so the boundary cannot occur in a part.
    boundary = "=_" + hashlib.sha256(message_id.encode()).hexdigest()[:32]
    head = [from_header, to_header]
    if reply_to:
        head.append(_address_line("Reply-To", reply_to))
    head += [
        _header("Subject", mail.subject),
        _header("Message-ID", message_id),
        # The time the mail was decided on, so a re-send is byte-for-byte the same mail.
        _header("Date", format_datetime(date)),
        "Auto-Submitted: auto-generated\n",  # RFC 3834: autoresponders stay quiet
        _header("X-Stopclock-Kind", kind),
    ]
    references = [f"<ticket-{ticket_id}@{domain}>"] if ticket_id else []
    if in_reply_to:
        # The confirmation of a ticket opened by mail answers that mail, in its thread.
        head.append(_ids_line("In-Reply-To", [in_reply_to]))
        references.insert(0, in_reply_to)
    if references:
        # Mail clients thread every mail of a ticket together (and with the mail that
        # opened it: it comes first, as the oldest ancestor).
        head.append(_ids_line("References", references))
    head += [
        "MIME-Version: 1.0\n",
        f'Content-Type: multipart/alternative;\n boundary="{boundary}"\n',
        _header("Content-Language", locale),
        "\n",
        f"--{boundary}\n",
        _text_part("text/plain", mail.text),
        f"--{boundary}\n",
        _text_part("text/html", mail.html),
        f"--{boundary}--\n",
    ]
    # aiosmtplib turns the line breaks into CRLF (and dot-stuffs) on the wire.
    data = "".join(head).encode("ascii")
    return OutgoingMail(senders[0], recipients, message_id, data)
