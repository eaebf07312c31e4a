"""Mails written (rendered) by the consumer, kept for this process's senders to send.

The consumer renders every mail it records (that proves the mail can be written before the
event is acknowledged); the sender needs the same text moments later. Rendering is a pure
function of the row, so the sender takes the consumer's result when it is still here and
renders again otherwise (a row recorded by another replica, or beyond a backlog's reach).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from .domain import RenderedMail

# About 6 KB a mail: some MB at most, and many seconds of mail at full speed.
DEFAULT_CAPACITY = 2048
# A mail not taken by then is another replica's to send (or long retried): forget it.
DEFAULT_MAX_AGE_SECONDS = 60.0


class WrittenMails:
    """A bounded memo of rendered mails by dedupe key; each entry is taken once.

    When full, it keeps the oldest mails and refuses new ones: senders work oldest first,
    so in a backlog the mails they will ask for next are the ones kept.
    """

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.max_age = max_age_seconds
        self.clock = clock
        self._mails: OrderedDict[str, tuple[float, RenderedMail]] = OrderedDict()

    def put(self, key: str, mail: RenderedMail) -> None:
        now = self.clock()
        if len(self._mails) >= self.capacity:
            while self._mails and next(iter(self._mails.values()))[0] < now - self.max_age:
                self._mails.popitem(last=False)
            if len(self._mails) >= self.capacity:
                return
        self._mails[key] = (now, mail)

    def take(self, key: str) -> RenderedMail | None:
        found = self._mails.pop(key, None)
        return found[1] if found else None

    def __len__(self) -> int:
        return len(self._mails)
