"""Waking the senders of this process the moment a consumer commits new mail rows.

The consumer registers ``after_commit`` on its session: the senders wake when the rows are
visible, at no cost to the transaction (no NOTIFY round trip, no notify-queue lock). Senders
of other replicas find the rows by their short poll.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.runtime import Runtime


class Wakeup:
    """One event per sender loop; ``set`` wakes them all."""

    def __init__(self) -> None:
        self.events: list[asyncio.Event] = []

    def new_event(self) -> asyncio.Event:
        wake = asyncio.Event()
        self.events.append(wake)
        return wake

    def set(self) -> None:
        for wake in self.events:
            wake.set()

    def after_commit(self, session: AsyncSession) -> None:
        """Wake the senders once ``session``'s transaction has committed (never on rollback)."""

        def wake(_: Any) -> None:
            self.set()

        event.listen(session.sync_session, "after_commit", wake, once=True)


def wakeup_of(runtime: Runtime) -> Wakeup:
    """The process's Wakeup, shared by the consumer (which sets it) and the senders."""
    found = runtime.extras.setdefault("mail_wakeup", Wakeup())
    assert isinstance(found, Wakeup)
    return found
