"""The pause ledger of one ticket: what the pause audit needs beyond the clocks.

The clocks know *when* they were paused; the audit also asks *why* and *who*:

* `spans`: every status the ticket entered, from when (the waiting reason stands for
  `waiting_on_user`). A clock's pause is attributed to the spans it covers, so a pause that
  runs across `new` and a wait is split between them, and the gap between a resolution and
  a reopening (which the resolution clock counts as paused) falls in a `resolved` span.
* `waits`: one per entry into `waiting_on_user`: who set it, whether a question was asked
  (a note on the transition, or a public comment by someone other than the requester since
  the previous status change), and who ended it.

The ledger is kept inside `TicketClocks` and changed by the same facts at the same clamped
times as the clocks, so it is as idempotent under redelivery and replay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Literal, TypeAlias

from stopclock_shared.events.vocabulary import Status

WAITING: Final = Status.WAITING_ON_USER
EndedBy: TypeAlias = Literal["requester", "desk", "other"]
"""Who ended a wait: the requester (their answer), a desk person, or anyone else (automation)."""


def span_key(status: str, reason: str | None) -> str:
    """What a pause in this status is attributed to: the waiting reason, else the status."""
    return reason if status == WAITING and reason else status


@dataclass(frozen=True, slots=True)
class Span:
    """From `at` (until the next span) the ticket was in the status (or reason) `key`."""

    at: datetime
    key: str


@dataclass(frozen=True, slots=True)
class Wait:
    """One entry into `waiting_on_user`; `ended_at` is None while it lasts."""

    started_at: datetime
    reason: str | None
    set_by: str | None
    asked: bool
    ended_at: datetime | None = None
    ended_by: EndedBy | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "reason": self.reason,
            "set_by": self.set_by,
            "asked": self.asked,
            "ended_at": None if self.ended_at is None else self.ended_at.isoformat(),
            "ended_by": self.ended_by,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Wait:
        ended = data["ended_at"]
        return cls(
            started_at=datetime.fromisoformat(data["started_at"]),
            reason=data["reason"],
            set_by=data["set_by"],
            asked=data["asked"],
            ended_at=None if ended is None else datetime.fromisoformat(ended),
            ended_by=data["ended_by"],
        )


@dataclass(frozen=True, slots=True)
class Ledger:
    """Status spans and waits of one ticket (see the module docstring).

    `asked`: a public comment by someone other than the requester since the last status
    change. `fact_at`: the (clamped) time of the last fact applied, up to which the audit
    metrics have counted the ticket (None for tickets saved before the ledger existed).
    """

    spans: tuple[Span, ...] = ()
    waits: tuple[Wait, ...] = ()
    asked: bool = False
    fact_at: datetime | None = None

    @property
    def open_wait(self) -> Wait | None:
        """The wait that lasts, if any."""
        if self.waits and self.waits[-1].ended_at is None:
            return self.waits[-1]
        return None

    def entered(
        self,
        at: datetime,
        status: str,
        reason: str | None,
        *,
        actor_id: str | None = None,
        by_requester: bool = False,
        by_desk: bool = False,
        with_note: bool = False,
        is_change: bool = True,
    ) -> Ledger:
        """The ticket entered `status` at `at` (a transition by the actor described).

        `is_change=False` records only the span (a ticket's initial status: nobody set it).
        """
        spans = self.spans
        key = span_key(status, reason)
        if not spans or spans[-1].key != key:
            spans = (*spans, Span(at, key))
        if not is_change:
            return replace(self, spans=spans, fact_at=at)
        waits = list(self.waits)
        if self.open_wait is not None:
            ended_by: EndedBy = "requester" if by_requester else "desk" if by_desk else "other"
            waits[-1] = replace(waits[-1], ended_at=at, ended_by=ended_by)
        if status == WAITING:
            waits.append(Wait(at, reason, actor_id, asked=with_note or self.asked))
        return Ledger(spans, tuple(waits), asked=False, fact_at=at)

    def commented(self, at: datetime, *, public: bool, by_requester: bool) -> Ledger:
        """A comment: a public one by someone other than the requester is a question."""
        return replace(self, asked=self.asked or (public and not by_requester), fact_at=at)

    def at(self, at: datetime) -> Ledger:
        """A fact that changes nothing here was applied at `at`."""
        return replace(self, fact_at=at)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the `ledger` key of the TicketClocks JSON)."""
        return {
            "spans": [[s.at.isoformat(), s.key] for s in self.spans],
            "waits": [w.to_dict() for w in self.waits],
            "asked": self.asked,
            "fact_at": None if self.fact_at is None else self.fact_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Ledger:
        """Inverse of `to_dict`; None (a row saved before the ledger) is an empty ledger."""
        if data is None:
            return cls()
        fact_at = data.get("fact_at")
        return cls(
            spans=tuple(Span(datetime.fromisoformat(at), key) for at, key in data["spans"]),
            waits=tuple(Wait.from_dict(w) for w in data["waits"]),
            asked=data["asked"],
            fact_at=None if fact_at is None else datetime.fromisoformat(fact_at),
        )
