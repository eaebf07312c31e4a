"""In-memory stand-ins for unit tests of use cases (cosmicpython's FakeUnitOfWork).

A service's tests give `FakeUnitOfWork` their fake repository; the use case runs as in
production, and the test reads what it stored (the fake repository), what it emitted
(`emitted`, `types()`) and what it asked to do after commit (`commit()` runs it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from stopclock_shared.events.envelope import Envelope

R = TypeVar("R")


@dataclass
class FakeUnitOfWork(Generic[R]):
    repo: R
    emitted: list[tuple[str, str, Envelope]] = field(default_factory=list)
    pending: list[Callable[[], None]] = field(default_factory=list)
    commits: int = 0

    async def emit(self, topic: str, key: str, envelope: Envelope) -> None:
        self.emitted.append((topic, key, envelope))

    async def emit_many(self, topic: str, events: Sequence[tuple[str, Envelope]]) -> None:
        self.emitted += [(topic, key, envelope) for key, envelope in events]

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.pending.append(callback)

    def commit(self) -> None:
        """What the caller does after the use case: commit, then run the callbacks."""
        self.commits += 1
        callbacks, self.pending = self.pending, []
        for callback in callbacks:
            callback()

    def types(self, topic: str | None = None) -> list[str]:
        """The event types emitted (to ``topic``), in order."""
        return [env.type for t, _, env in self.emitted if topic is None or t == topic]

    def envelopes(self, type_: str) -> list[Envelope]:
        return [env for _, _, env in self.emitted if env.type == type_]
