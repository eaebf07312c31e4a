"""The runtime state of a notification process, shared by its consumer and its senders."""

from __future__ import annotations

from dataclasses import dataclass, field

from .sender_wakeup import SenderWakeup
from .written_mails import WrittenMails


@dataclass
class NotificationState:
    """``wakeup``: the consumer wakes a sender after committing new mails; ``written``: the
    mails the consumer wrote, so a sender of this process does not write them again."""

    wakeup: SenderWakeup = field(default_factory=SenderWakeup)
    written: WrittenMails = field(default_factory=WrittenMails)
