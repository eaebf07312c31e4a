"""An in-memory `SlaRepository` for the use cases' unit tests (cosmicpython's
FakeRepository), and the unit of work that carries it.

It keeps what the SQL repository keeps, with the same observable rules: versions by
(name, version), the current one the highest; a second insert of a version is refused
(None); clocks stored as JSON (a round trip, as JSONB does); current versions listed by
name, one more than asked; the events written with timer notes land in the unit of work's
``emitted``, in the order they were written. (Named `sla_fakes`, not `fakes`: test folders
without a package share one module namespace.)
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from stopclock_shared.testing.fakes import FakeUnitOfWork
from stopclock_sla.repository import (
    AuditKey,
    AuditWindow,
    ClocksValues,
    Kind,
    LockedClocks,
    Outgoing,
    ResolutionRow,
    SlaRepository,
    StoredClocks,
    StoredVersion,
    TimerRow,
)


def _json(value: object) -> Any:
    return orjson.loads(orjson.dumps(value))


@dataclass
class FakeSlaRepository:
    stored: dict[Kind, dict[tuple[str, int], StoredVersion]] = field(
        default_factory=lambda: {"policies": {}, "calendars": {}}
    )
    clocks: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    outbox: list[Outgoing] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    locked_names: list[tuple[Kind, str]] = field(default_factory=list)

    # --- policies and calendars ---

    async def heads(self, kind: Kind, names: Collection[str] | None = None) -> dict[str, int]:
        found: dict[str, int] = {}
        for name, version in self.stored[kind]:
            if names is None or name in names:
                found[name] = max(version, found.get(name, 0))
        return found

    async def current_heads(self) -> tuple[dict[str, int], dict[str, int]]:
        return await self.heads("policies"), await self.heads("calendars")

    async def versions(
        self, kind: Kind, keys: Iterable[tuple[str, int]]
    ) -> Sequence[StoredVersion]:
        return [self.stored[kind][k] for k in keys if k in self.stored[kind]]

    async def get_version(
        self, kind: Kind, name: str, version: int | None = None
    ) -> StoredVersion | None:
        if version is None:
            version = (await self.heads(kind, [name])).get(name)
        return None if version is None else self.stored[kind].get((name, version))

    async def list_current(
        self, kind: Kind, after: str | None, limit: int
    ) -> Sequence[StoredVersion]:
        heads = sorted((await self.heads(kind)).items())
        current = [self.stored[kind][h] for h in heads if after is None or h[0] > after]
        return current[: limit + 1]

    async def insert_version(
        self, kind: Kind, name: str, version: int, spec: dict[str, Any], now: datetime
    ) -> StoredVersion | None:
        if (name, version) in self.stored[kind]:
            return None
        row = StoredVersion(name, version, _json(spec), now)
        self.stored[kind][(name, version)] = row
        return row

    async def lock_name(self, kind: Kind, name: str) -> None:
        self.locked_names.append((kind, name))

    # --- ticket clocks ---

    async def get_clocks(
        self, ticket_id: uuid.UUID, *, for_update: bool = False
    ) -> StoredClocks | None:
        row = self.clocks.get(ticket_id)
        if row is None:
            return None
        return StoredClocks(row["partition"], row["aggregate"], row["ticket"], row["next_due"])

    async def insert_clocks(
        self, ticket_id: uuid.UUID, values: ClocksValues, now: datetime
    ) -> None:
        assert ticket_id not in self.clocks, "one row per ticket (primary key)"
        self.clocks[ticket_id] = {"created_at": now, **_stored(values)}

    async def update_clocks(self, ticket_id: uuid.UUID, values: ClocksValues) -> None:
        self.clocks[ticket_id].update(_stored(values))

    async def lock_many(self, ticket_ids: Sequence[uuid.UUID]) -> Sequence[LockedClocks]:
        return [
            LockedClocks(
                i,
                row["partition"],
                orjson.dumps(row["aggregate"]).decode(),
                orjson.dumps(row["ticket"]).decode(),
                list(row["clock_states"]),
                row["next_due"],
            )
            for i in sorted(ticket_ids)
            if (row := self.clocks.get(i)) is not None
        ]

    async def update_many(self, rows: Sequence[TimerRow], now: datetime) -> None:
        for r in rows:
            self.clocks[r.ticket_id].update(
                aggregate=orjson.loads(r.aggregate),
                clock_states=list(r.clock_states),
                next_due=r.next_due,
                updated_at=now,
            )

    async def add_events(self, items: Sequence[Outgoing], timer_notes: Sequence[str] = ()) -> None:
        self.outbox += items
        self.notes += timer_notes

    async def resolution_clocks_page(
        self, window: AuditWindow, after: AuditKey | None, limit: int
    ) -> Sequence[ResolutionRow]:
        found = sorted(
            (row["resolution_started_at"], ticket_id, orjson.dumps(row["aggregate"]).decode())
            for ticket_id, row in self.clocks.items()
            if row["resolution_started_at"] is not None
            and window.start <= row["resolution_started_at"] < window.end
            and window.service in (None, row["ticket"].get("service"))
        )
        return [r for r in found if after is None or (r[0], r[1]) > after][:limit]


def _stored(values: ClocksValues) -> dict[str, Any]:
    return {**values, "aggregate": _json(values["aggregate"]), "ticket": _json(values["ticket"])}


SlaUow = FakeUnitOfWork[FakeSlaRepository]


def unit_of_work(repo: FakeSlaRepository | None = None) -> SlaUow:
    """A fake unit of work (on `repo`, to go on with a stored state) whose repository
    writes its events to the unit's ``emitted``, as the SQL one writes them to the outbox."""
    uow = FakeUnitOfWork(repo=repo or FakeSlaRepository())
    uow.repo.outbox = uow.emitted
    return uow


# The fake is a SlaRepository (checked by mypy when the tests are type-checked).
_conforms: SlaRepository = FakeSlaRepository()
