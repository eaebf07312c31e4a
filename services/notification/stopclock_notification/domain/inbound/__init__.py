"""Reading a mail sent to the desk: pure functions from bytes to what the mail says.

No I/O and no clock reads. The service (``inbound`` modules outside ``domain/``) records the
mail, looks up the ticket it threads to and acts; everything it decides on comes from here.

What the domain decides (one module each):
- ``reading``: the entry point, ``read_mail(raw) -> InboundMail``; raises ``MalformedMail``
  (and nothing else) for bytes that are not a usable mail: no addr-spec in From (the first
  one is the sender when From names several or a group), or a parser failure.
- ``headers``: header values decoded (encoded-words, unknown charsets, raw UTF-8), the
  Message-IDs threading uses (Message-ID, In-Reply-To then References).
- ``parts``: the body (plain text preferred over HTML in an alternative) and the attachments
  (name, size, content type, inline or not; nothing is stored).
- ``html_text``: HTML-only mail as text, quoted history (blockquote, Gmail/Thunderbird/Outlook
  web containers) and signature blocks dropped.
- ``reply_text`` (with ``quote_marks``): only the new words of a reply, English and French
  (and other) client formats; a mail with no new words keeps its whole text (``quoted_only``).
- ``auto_reply``: automatic mail (RFC 3834 and de-facto headers, lists, read receipts,
  noreply senders, out-of-office subjects in seven languages) and whether it is an absence
  (``out_of_office``: the requester is away). Outlook's ``X-Auto-Response-Suppress`` alone
  is not a sign: Outlook sets it on mails people write.
- ``bounces``: delivery reports (RFC 3464 DSN and prose bounces): the failed recipient,
  status, diagnostic and our original Message-ID. A bounce is never also an auto reply; a
  delay or success report is only automatic mail.
- ``subjects``: ``ticket_numbers(subject)`` (``[INC0000123]``, bare ``REQ0000042``) and
  forward subjects (a forward's quoted mail is content, not history).
- ``text_safety``: every string out is valid UTF-8 without NUL, bounded (new text at most
  ``MAX_NEW_TEXT`` characters, then "[truncated]").

Interface (kept stable for the service side): ``read_mail``, ``InboundMail``, ``Attachment``,
``Bounce``, ``MalformedMail``, ``ticket_numbers``.
"""

from .reading import (
    MAX_NEW_TEXT,
    Attachment,
    Bounce,
    InboundMail,
    MalformedMail,
    read_mail,
)
from .subjects import ticket_numbers

__all__ = [
    "MAX_NEW_TEXT",
    "Attachment",
    "Bounce",
    "InboundMail",
    "MalformedMail",
    "read_mail",
    "ticket_numbers",
]
