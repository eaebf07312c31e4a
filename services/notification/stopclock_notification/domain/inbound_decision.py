"""What a mail to the desk does: pure decisions over what the mail says and what we know.

The service (``use_cases/inbound.py``) reads the mail (``domain.inbound.read_mail``), looks
up the tickets and people it may concern, and hands them here; nothing here does I/O or reads the
clock. Threading order (API.md, "Notification service"): a signed reply address of ours,
else ``In-Reply-To``/``References`` naming a mail we sent for a ticket, else a ticket number
in the subject when the sender is that ticket's requester.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from stopclock_shared.events.commands import CommentCommand, OpenTicketCommand
from stopclock_shared.events.vocabulary import Channel, NoteKind
from stopclock_shared.links import read_reply_address

from .inbound import Attachment, InboundMail

TITLE_MAX = 300  # the ticket API's bound on a title
TEXT_MAX = 20000  # the ticket API's bound on a comment body
NO_SUBJECT = "(no subject)"
NO_TEXT = "(no text)"
# Statuses nobody works any more: a reply to such a ticket opens a follow-up.
FINAL_STATUSES = frozenset({"closed", "cancelled"})
# Reply/forward prefixes mail clients put before a subject, in the languages we send.
_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|tr|aw|wg|sv|vs|rif|enc)\s*(?:\[\d+\])?\s*:\s*)+", re.I)


class Outcome(StrEnum):
    """``outcome`` of an inbound mail (API.md, ``GET /api/v1/inbound``)."""

    COMMENT = "comment"
    INTERNAL_COMMENT = "internal_comment"
    NEW_TICKET = "new_ticket"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    REJECTED = "rejected"


@dataclass(frozen=True)
class TicketRef:
    """What we know of a ticket from its events (the ``ticket_refs`` replica)."""

    ticket_id: str
    number: str
    requester_id: str
    requester_email: str
    status: str
    waiting_reason: str | None = None

    def is_requester(self, address: str) -> bool:
        return address.strip().lower() == self.requester_email.strip().lower()


@dataclass(frozen=True)
class Person:
    """A person of the directory (the ``people`` replica)."""

    person_id: str
    email: str
    name: str


@dataclass(frozen=True)
class SentMail:
    """A mail of ours that a bounce names (a row of the notifications log)."""

    message_id: str
    ticket_id: str | None
    recipient: str


@dataclass(frozen=True)
class Thread:
    """The ticket a mail answers, and by which of the three rules we know it."""

    ticket: TicketRef
    by: str


@dataclass(frozen=True)
class Decision:
    """What to record and do for one mail; ``commands`` go to ``tickets.commands``."""

    outcome: Outcome
    detail: str
    ticket_id: str | None = None
    commands: tuple[CommentCommand | OpenTicketCommand, ...] = ()
    # Message-ID of our mail to mark ``bounced`` with ``detail`` as its last error.
    bounced_message_id: str | None = None


# -- facts from the mail alone ----------------------------------------------------------------
def _split(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().lower().rpartition("@")
    return local, domain


def is_our_own(sender: str, desk_address: str) -> bool:
    """True for the desk's address or any ``desk+tag`` address of its domain: mail from
    ourselves is a loop (signed or not, we never write from a reply address)."""
    local, domain = _split(sender)
    desk_local, desk_domain = _split(desk_address)
    return domain == desk_domain and local.partition("+")[0] == desk_local


def addressed_to_desk(recipients: Iterable[str], desk_address: str) -> bool:
    """True when the plain desk address is among the recipients."""
    desk = desk_address.strip().lower()
    return any(r.strip().lower() == desk for r in recipients)


def at_desk_domain(address: str, desk_address: str) -> bool:
    """True for an address our receiver accepts mail for (the desk's domain)."""
    return _split(address)[1] == _split(desk_address)[1] and bool(_split(address)[0])


def reply_ticket_ids(key: bytes, desk_address: str, recipients: Iterable[str]) -> list[uuid.UUID]:
    """Tickets named by verified reply addresses among ``recipients``, in order."""
    found: list[uuid.UUID] = []
    for address in recipients:
        tag = read_reply_address(key, desk_address, address)
        if tag is not None and tag.ticket_id not in found:
            found.append(tag.ticket_id)
    return found


def ticket_ids_of_references(references: Iterable[str], message_id_domain: str) -> list[str]:
    """Ticket ids of the ``<ticket-{id}@domain>`` thread roots our mails put in References."""
    found: list[str] = []
    suffix = "@" + message_id_domain.lower() + ">"
    for reference in references:
        text = reference.strip().lower()
        if not (text.startswith("<ticket-") and text.endswith(suffix)):
            continue
        try:
            ticket_id = str(uuid.UUID(text[len("<ticket-") : -len(suffix)]))
        except ValueError:
            continue
        if ticket_id not in found:
            found.append(ticket_id)
    return found


def title_of(subject: str) -> str:
    """A ticket title from a subject: reply/forward prefixes dropped, bounded, never empty."""
    title = " ".join(_PREFIX.sub("", subject or "").split())
    if not title:
        return NO_SUBJECT
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def attachments_line(attachments: Sequence[Attachment]) -> str:
    """The line a comment gets for the attachments we do not store (yet)."""
    # Inline images are signatures and pasted pictures, not files the requester sent us.
    listed = [a for a in attachments if not a.inline]
    if not listed:
        return ""
    names = ", ".join(f"{a.filename or 'unnamed'} ({_size(a.size)})" for a in listed)
    return f"Attachments (not stored): {names}"


def text_of(mail: InboundMail) -> str:
    """The new words of the mail and its attachments line, bounded, never empty."""
    parts = [p for p in (mail.new_text.strip(), attachments_line(mail.attachments)) if p]
    body = "\n\n".join(parts) or NO_TEXT
    return body if len(body) <= TEXT_MAX else body[: TEXT_MAX - 1] + "…"


def _who(mail: InboundMail) -> str:
    return f"{mail.sender_name} <{mail.sender}>" if mail.sender_name else mail.sender


# -- threading --------------------------------------------------------------------------------
def thread_of(
    mail: InboundMail,
    by_reply_address: TicketRef | None,
    by_reference: TicketRef | None,
    by_number: Sequence[TicketRef],
) -> Thread | None:
    """The ticket a mail answers, by the first rule that names one.

    ``by_number`` are the tickets whose numbers the subject names; one counts only when the
    sender is its requester (a number alone is guessable).
    """
    if by_reply_address is not None:
        return Thread(by_reply_address, "reply address")
    if by_reference is not None:
        return Thread(by_reference, "In-Reply-To/References")
    for ticket in by_number:
        if ticket.is_requester(mail.sender):
            return Thread(ticket, f"subject number {ticket.number}")
    return None


# -- the decision -----------------------------------------------------------------------------
def _note(ticket_id: str, body: str, kind: NoteKind) -> CommentCommand:
    return CommentCommand(
        ticket_id=ticket_id,
        body=body[:TEXT_MAX],
        visibility="internal",
        author_id=None,
        channel=Channel.EMAIL,
        note_kind=kind,
    )


def decide_bounce(mail: InboundMail, sent: SentMail | None) -> Decision:
    """A delivery status notification: mark our mail and tell the agent on its ticket."""
    assert mail.bounce is not None
    bounce = mail.bounce
    reason = " ".join(p for p in (bounce.status, bounce.reason) if p) or "undeliverable"
    if sent is None:
        return Decision(Outcome.BOUNCE, f"bounce for a mail we do not know: {reason}")
    detail = f"mail to {bounce.recipient or sent.recipient} bounced: {reason}"
    commands: tuple[CommentCommand, ...] = ()
    if sent.ticket_id:
        note = (
            f"Our mail to {bounce.recipient or sent.recipient} could not be delivered "
            f"({reason}). The requester may not be reachable by email."
        )
        commands = (_note(sent.ticket_id, note, NoteKind.BOUNCE),)
    return Decision(
        Outcome.BOUNCE,
        detail,
        ticket_id=sent.ticket_id,
        commands=commands,
        bounced_message_id=sent.message_id,
    )


def decide(
    mail: InboundMail,
    thread: Thread | None,
    *,
    sender_person: Person | None,
    to_desk: bool,
    new_ticket_id: uuid.UUID,
) -> Decision:
    """The outcome and commands of a mail that is neither a loop nor a bounce."""
    if mail.auto_reply:
        if thread is None:
            return Decision(Outcome.AUTO_REPLY, f"automatic reply ({mail.auto_reply}); no ticket")
        ticket = thread.ticket
        detail = f"automatic reply ({mail.auto_reply}), threaded by {thread.by}"
        if not mail.out_of_office:
            # Read receipts, list mail, delay notices: recorded, but nothing for the agent.
            return Decision(Outcome.AUTO_REPLY, detail, ticket_id=ticket.ticket_id)
        from_requester = ticket.is_requester(mail.sender)
        # Only the requester's own away message marks their wait `away` (escalation).
        kind = NoteKind.AUTO_REPLY if from_requester else NoteKind.UNVERIFIED_SENDER
        note = f"Automatic reply from {_who(mail)} ({mail.auto_reply}):\n\n{text_of(mail)}"
        return Decision(
            Outcome.AUTO_REPLY,
            detail,
            ticket_id=ticket.ticket_id,
            commands=(_note(ticket.ticket_id, note, kind),),
        )
    if thread is not None:
        ticket = thread.ticket
        if ticket.is_requester(mail.sender) and ticket.status in FINAL_STATUSES:
            # Nobody works a closed ticket any more: the requester's reply opens a follow-up.
            return _open(
                mail,
                Person(ticket.requester_id, ticket.requester_email, mail.sender_name),
                new_ticket_id,
                f"follow-up of {ticket.number} ({ticket.status}), threaded by {thread.by}",
                f"Follow-up of {ticket.number}, which was {ticket.status}.\n\n{text_of(mail)}",
            )
        if ticket.is_requester(mail.sender):
            comment = CommentCommand(
                ticket_id=ticket.ticket_id,
                body=text_of(mail),
                visibility="public",
                author_id=ticket.requester_id,
                channel=Channel.EMAIL,
            )
            return Decision(
                Outcome.COMMENT,
                f"requester's reply, threaded by {thread.by}",
                ticket_id=ticket.ticket_id,
                commands=(comment,),
            )
        note = f"Mail from unverified sender {_who(mail)}:\n\n{text_of(mail)}"
        return Decision(
            Outcome.INTERNAL_COMMENT,
            f"sender is not the requester, threaded by {thread.by}",
            ticket_id=ticket.ticket_id,
            commands=(_note(ticket.ticket_id, note, NoteKind.UNVERIFIED_SENDER),),
        )
    if not to_desk:
        return Decision(Outcome.REJECTED, "no ticket reference and not sent to the desk address")
    if sender_person is None:
        # No reply: answering unknown senders is backscatter.
        return Decision(Outcome.REJECTED, "unknown sender: not in the directory")
    return _open(mail, sender_person, new_ticket_id, f"new ticket for {sender_person.person_id}")


def _open(
    mail: InboundMail,
    person: Person,
    new_ticket_id: uuid.UUID,
    detail: str,
    description: str | None = None,
) -> Decision:
    ticket_id = str(new_ticket_id)
    text = description if description is not None else text_of(mail)
    command = OpenTicketCommand(
        ticket_id=ticket_id,
        requester_id=person.person_id,
        title=title_of(mail.subject),
        description=text[:TEXT_MAX],
        channel=Channel.EMAIL,
        source_message_id=mail.message_id,
    )
    return Decision(Outcome.NEW_TICKET, detail, ticket_id=ticket_id, commands=(command,))
