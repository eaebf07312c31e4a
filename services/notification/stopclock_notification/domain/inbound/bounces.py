"""Delivery reports about mails we sent: a permanent failure is a ``Bounce``; a delay or a
success report is only automatic mail.

Standard reports (RFC 3464 ``multipart/report; report-type=delivery-status``) are read
field by field. Older MTAs (qmail, Exim, Postfix without DSN, Exchange NDRs) write prose:
those are recognised by their sender (MAILER-DAEMON, postmaster) or subject, the failed
address found by ``flufl.bounce`` (Mailman's detectors for dozens of such formats), and our
original mail by its attached copy or its quoted ``Message-ID:`` line.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import HeaderParser

from flufl.bounce import all_failures

from .headers import decoded, message_ids, raw_values
from .parts import MAX_DEPTH, MAX_PARTS, part_text
from .text_safety import clean, one_line

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_QUOTED_MSGID = re.compile(r"^\s*message-id\s*:\s*(<[^<>\s]{1,500}>)", re.IGNORECASE | re.MULTILINE)
_ADDRESS = re.compile(r"[^\s\x00-\x1f<>;:,\"'()\[\]]{1,64}@[^\s\x00-\x1f<>;:,\"'()\[\]]{1,255}")
_DAEMON_NAME = re.compile(r"mail delivery (system|subsystem|service)|mailer.?daemon", re.I)
_FAILED_SUBJECT = re.compile(
    r"undeliver(ed|able)|returned mail|returned to sender|mail delivery (failed|failure)"
    r"|delivery (status notification \(failure\)|failure|failed|has failed|incomplete)"
    r"|failure notice|could ?n[o']t be delivered|message not delivered|non remis"
    r"|non d[ée]livr[ée]|non distribu|[ée]chec de (la )?(remise|distribution|livraison)"
    r"|unzustellbar|nicht zustellbar|no se puede entregar|no entregado|non recapitabile"
    r"|mancato recapito|onbestelbaar|niet bezorgd",
    re.IGNORECASE,
)
_DELAYED_SUBJECT = re.compile(
    r"delay(ed)?\b|still being retried|not yet been delivered|remise diff[ée]r[ée]e"
    r"|retard|verz[öo]gert|retrasad|ritard|vertraagd",
    re.IGNORECASE,
)
_MAX_FLUFL_BYTES = 2_000_000
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_MAX_REASON = 500

# RFC 3463 codes worth a readable reason when the report has no diagnostic text
_STATUS_TEXT = {
    "5.1.1": "mailbox does not exist",
    "5.1.2": "domain does not exist",
    "5.1.10": "recipient address not found",
    "5.2.1": "mailbox disabled",
    "5.2.2": "mailbox full",
    "4.2.2": "mailbox full",
    "5.3.4": "message too big",
    "5.4.1": "recipient address rejected",
    "5.7.1": "delivery not authorized",
}


@dataclass(frozen=True)
class Failure:
    """A permanent delivery failure (becomes ``reading.Bounce``)."""

    original_message_id: str | None
    recipient: str | None
    status: str | None
    reason: str


@dataclass(frozen=True)
class Notice:
    """A delivery report that is not a failure (delayed, delivered, relayed)."""

    action: str


def delivery_report(
    msg: Message, raw: bytes, sender: str, sender_name: str, subject: str
) -> Failure | Notice | None:
    """What ``msg`` reports about a mail we sent, or None if it is no delivery report."""
    report = _status_part(msg)
    original = _original_headers(msg)
    if report is not None:
        return _from_report(report, original, msg)
    daemon = _is_daemon(sender, sender_name, msg)
    failed_subject = bool(_FAILED_SUBJECT.search(subject))
    # from anyone else, only a report's own subject ("Undeliverable: ...") with our mail
    # attached: a person forwarding a bounce ("Fwd: Undelivered Mail") asks for help
    reported = bool(_FAILED_SUBJECT.match(subject.lstrip())) and original is not None
    if not (daemon or reported):
        return None
    temporary, permanent = _flufl(raw)
    if not permanent and not failed_subject and (temporary or _DELAYED_SUBJECT.search(subject)):
        return Notice("delayed")
    if not (permanent or failed_subject or original is not None):
        return None  # a daemon writing about something else: automatic, not a bounce
    text = _body_text(msg)
    recipient = permanent[0] if permanent else _first_address(original, "to")
    status = _STATUS.search(text)
    return Failure(
        original_message_id=_original_id(original, text),
        recipient=recipient,
        status=status.group(0) if status else None,
        reason=_prose_reason(text, recipient) or subject[:_MAX_REASON] or "undeliverable",
    )


def _walk(msg: Message) -> list[Message]:
    """The parts of ``msg`` (not inside attached messages), bounded."""
    found: list[Message] = []
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack and len(found) < MAX_PARTS:
        part, depth = stack.pop()
        found.append(part)
        if part.get_content_type().startswith("multipart/") and depth < MAX_DEPTH:
            payload = part.get_payload()
            if isinstance(payload, list):
                stack += [(c, depth + 1) for c in reversed(payload) if isinstance(c, Message)]
    return found


def _status_part(msg: Message) -> list[dict[str, str]] | None:
    if msg.get_content_type() != "multipart/report":
        return None
    for part in _walk(msg):
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            return _fields(part)
    return None


def _fields(part: Message) -> list[dict[str, str]]:
    """The header blocks of a delivery-status part (per message, then per recipient)."""
    payload = part.get_payload()
    if isinstance(payload, list):  # the parser split it into header blocks already
        text = "\n\n".join(
            "\n".join(f"{k}: {v}" for k, v in block.raw_items())
            for block in payload
            if isinstance(block, Message)
        )
    else:
        text = part_text(part)
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        name = ""
        for line in chunk.split("\n"):
            if line[:1] in (" ", "\t") and name:
                fields[name] += " " + line.strip()
            elif ":" in line:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                fields[name] = value.strip()
        if fields:
            blocks.append(fields)
    return blocks


def _from_report(
    blocks: list[dict[str, str]], original: Message | None, msg: Message
) -> Failure | Notice:
    recipients = [b for b in blocks if "final-recipient" in b or "action" in b]
    failed = [b for b in recipients if _action(b) in ("failed", "error")]
    if not failed:
        return Notice(_action(recipients[0]) if recipients else "unknown")
    block = failed[0]
    status_match = _STATUS.search(block.get("status", ""))
    status = status_match.group(0) if status_match else None
    diagnostic = _without_type(block.get("diagnostic-code", ""))
    recipient = _recipient(block.get("original-recipient", "")) or _recipient(
        block.get("final-recipient", "")
    )
    return Failure(
        original_message_id=_original_id(original, _body_text(msg)),
        recipient=recipient or _first_address(original, "to"),
        status=status,
        reason=one_line(
            diagnostic or _STATUS_TEXT.get(status or "", "") or status or "undeliverable",
            _MAX_REASON,
        ),
    )


def _action(block: dict[str, str]) -> str:
    action = block.get("action", "").split()[0].lower() if block.get("action") else ""
    if action:
        return action
    status = _STATUS.search(block.get("status", ""))  # no Action: the status class says it
    return {"5": "failed", "4": "delayed", "2": "delivered"}.get(
        status.group(1) if status else "", "unknown"
    )


def _without_type(value: str) -> str:
    """ "smtp; 550 5.1.1 ..." -> "550 5.1.1 ..."."""
    kind, sep, rest = value.partition(";")
    return clean(rest.strip() if sep and len(kind) < 20 else value.strip())


def _recipient(value: str) -> str | None:
    found = _ADDRESS.search(_without_type(value))
    return found.group(0).lower().rstrip(".") if found else None


def _original_headers(msg: Message) -> Message | None:
    """The headers of our mail as the report returns them (attached copy or headers only)."""
    for part in _walk(msg):
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
            if isinstance(inner, str):
                return HeaderParser(policy=policy.compat32).parsestr(clean(inner))
        if ctype in ("text/rfc822-headers", "message/global-headers"):
            return HeaderParser(policy=policy.compat32).parsestr(part_text(part))
    return None


def _original_id(original: Message | None, text: str) -> str | None:
    if original is not None:
        for value in raw_values(original, "message-id"):
            ids = message_ids(value)
            if ids:
                return ids[0]
    quoted = _QUOTED_MSGID.search(text)  # prose bounces quote the headers in the text
    return quoted.group(1) if quoted else None


def _first_address(original: Message | None, name: str) -> str | None:
    if original is None:
        return None
    for value in raw_values(original, name):
        found = _ADDRESS.search(decoded(value))
        if found:
            return found.group(0).lower()
    return None


def _is_daemon(sender: str, sender_name: str, msg: Message) -> bool:
    local = sender.split("@")[0]
    return (
        local in ("mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster", "mail-daemon")
        or bool(_DAEMON_NAME.search(sender_name))
        or any(v.replace(" ", "") == "<>" for v in raw_values(msg, "return-path"))
    )


def _flufl(raw: bytes) -> tuple[list[str], list[str]]:
    """(temporary, permanent) failed addresses by flufl.bounce's format detectors."""
    if len(raw) > _MAX_FLUFL_BYTES:
        return [], []
    try:
        temporary, permanent = all_failures(email.message_from_bytes(_ascii_headers(raw)))
    except Exception:  # a detector tripping over a strange body is no reason to fail
        return [], []

    def addresses(found: frozenset[bytes] | set[bytes]) -> list[str]:
        out = {a.decode("ascii", "replace").strip("<>").lower() for a in found}
        return sorted(a for a in out if _ADDRESS.fullmatch(a))

    return addresses(temporary), addresses(permanent)


def _ascii_headers(raw: bytes) -> bytes:
    """``raw`` with 8-bit header bytes as "?": flufl's detectors expect header strings, and
    the compat32 parser they use turns 8-bit headers into objects they trip over."""
    end = min((i for i in (raw.find(b"\n\n"), raw.find(b"\r\n\r\n")) if i >= 0), default=-1)
    if end < 0:
        end = len(raw)
    return _NON_ASCII.sub(b"?", raw[:end]) + raw[end:]


def _body_text(msg: Message) -> str:
    texts = [
        part_text(p)
        for p in _walk(msg)
        if p.get_content_type() == "text/plain" and not p.is_multipart()
    ]
    return "\n".join(texts)[:200_000]


def _prose_reason(text: str, recipient: str | None) -> str:
    """The line of a prose bounce that explains the failure (an SMTP reply, or the line
    after the failed address)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if re.match(r"^(.*\b)?[45]\d\d[ -]", line) and re.search(r"[a-z]{3}", line, re.I):
            return one_line(line, _MAX_REASON)
    if recipient:
        for i, line in enumerate(lines[:-1]):
            if recipient in line.lower():
                return one_line(lines[i + 1], _MAX_REASON)
    return ""
