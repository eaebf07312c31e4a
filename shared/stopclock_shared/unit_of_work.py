"""The unit of work a use case runs in: its repository, the events it emits, what to do once
committed. Use cases take a `UnitOfWork` and never see a session or a status code, so their
rules are unit-tested against `testing.fakes.FakeUnitOfWork` and the SQL by integration tests.

The transaction is owned by the caller (the HTTP request, the consumer's poll, a timer
loop): a use case never commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from .db import after_commit
from .events.envelope import Envelope
from .outbox import Outbox

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class UnitOfWork(Protocol[R_co]):
    """What a use case may touch: ``repo`` (the service's repository protocol), the outbox
    (events committed with the change) and after-commit callbacks."""

    @property
    def repo(self) -> R_co: ...

    async def emit(self, topic: str, key: str, envelope: Envelope) -> None: ...

    async def emit_many(self, topic: str, events: Sequence[tuple[str, Envelope]]) -> None: ...

    def after_commit(self, callback: Callable[[], None]) -> None: ...


@dataclass(frozen=True, slots=True)
class SqlUnitOfWork(Generic[R]):
    """The real one: a session's transaction, the service's SQL repository and its outbox."""

    session: AsyncSession
    outbox: Outbox
    repo: R

    async def emit(self, topic: str, key: str, envelope: Envelope) -> None:
        await self.outbox.add(self.session, topic, key, envelope)

    async def emit_many(self, topic: str, events: Sequence[tuple[str, Envelope]]) -> None:
        await self.outbox.add_many(self.session, topic, events)

    def after_commit(self, callback: Callable[[], None]) -> None:
        after_commit(self.session, callback)
