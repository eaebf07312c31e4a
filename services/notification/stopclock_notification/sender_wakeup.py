"""Waking the senders of this process the moment a consumer commits new mail rows.

Recording mails asks for ``wake_one`` after its commit: a sender wakes when the rows are
visible, at no cost to the transaction (no NOTIFY round trip, no notify-queue lock), and
wakes another if it finds a full batch. Senders of other replicas find the rows by their
short poll.
"""

from __future__ import annotations

import asyncio
from typing import Literal


class SenderWake(asyncio.Event):
    """A sender's wake-up event that knows whether its sender is waiting on it (idle)."""

    waiting = False

    async def wait(self) -> Literal[True]:
        self.waiting = True
        try:
            return await super().wait()
        finally:
            self.waiting = False


class SenderWakeup:
    """One event per sender loop; ``set`` wakes them all, ``set_one`` a single one.

    A commit wakes one sender: waking them all would have all but one claim nothing (a
    wasted transaction each). A sender that claims a full batch wakes another
    (``set_one``), so a backlog still gets every sender.
    """

    def __init__(self) -> None:
        self.events: list[SenderWake] = []
        self._next = 0

    def new_event(self) -> SenderWake:
        wake = SenderWake()
        self.events.append(wake)
        return wake

    def set(self) -> None:
        for wake in self.events:
            wake.set()

    def set_one(self, skip: asyncio.Event | None = None) -> None:
        """Wake one sender other than ``skip``'s, not woken already: an idle one if there is
        one (in turn, so the work spreads), else a busy one (it looks again when done)."""
        count = len(self.events)
        order = [self.events[(self._next + i) % count] for i in range(count)]
        candidates = [w for w in order if w is not skip and not w.is_set()]
        chosen = next((w for w in candidates if w.waiting), None) or next(iter(candidates), None)
        if chosen is not None:
            self._next = (self.events.index(chosen) + 1) % count
            chosen.set()

    def wake_one(self) -> None:
        """Wake one sender (new rows were committed)."""
        self.set_one()
