"""Timer notes: "ticket T of partition P now needs attention at D (or never)".

Written with each change of a ticket's clocks by a ticket event, in the same transaction
(as a PostgreSQL NOTIFY, so every replica gets it at commit and in commit order). The
replica that owns the partition (re)schedules the ticket. This closes the gap of a
rebalance: a replica still applying an event of a partition it just lost commits after the
new owner loaded its timers, and the new owner would otherwise never learn of the change
(its redelivery of the event is deduplicated).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TimerNote:
    ticket_id: str
    partition: int
    due: datetime | None

    def encode(self) -> str:
        """`"<ticket> <partition> <due in epoch microseconds or ->"` (well under 8000 bytes)."""
        due = "-" if self.due is None else str((self.due - _EPOCH) // timedelta(microseconds=1))
        return f"{self.ticket_id} {self.partition} {due}"

    @classmethod
    def decode(cls, text: str) -> TimerNote:
        """Inverse of `encode`; ValueError for anything else."""
        ticket_id, partition, due = text.split(" ")
        when = None if due == "-" else _EPOCH + timedelta(microseconds=int(due))
        return cls(ticket_id, int(partition), when)
