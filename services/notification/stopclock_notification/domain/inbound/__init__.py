"""Reading a mail sent to the desk: pure functions from bytes to what the mail says.

No I/O and no clock reads. The service (``inbound`` modules outside ``domain/``) records the
mail, looks up the ticket it threads to and acts; everything it decides on comes from here.

Interface (kept stable for the service side):
- ``read_mail(raw) -> InboundMail``; raises ``MalformedMail`` (and nothing else) for bytes
  that are not a usable mail.
- ``InboundMail``: the facts of one mail (see the dataclass).
- ``ticket_numbers(subject)``: the ``INC…``/``REQ…`` numbers named in a subject.
"""

from .reading import (
    Attachment,
    Bounce,
    InboundMail,
    MalformedMail,
    read_mail,
    ticket_numbers,
)

__all__ = [
    "Attachment",
    "Bounce",
    "InboundMail",
    "MalformedMail",
    "read_mail",
    "ticket_numbers",
]
