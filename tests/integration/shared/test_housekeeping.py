"""Bookkeeping stays bounded: old published outbox rows, processed event ids and idempotency
keys are pruned on real PostgreSQL; anything still needed is kept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from stopclock_shared import housekeeping
from stopclock_shared.db import common_tables, make_metadata, make_sessionmaker

metadata = make_metadata()
outbox, processed, idempotency = common_tables(metadata)
NOW = datetime.now(UTC)


@pytest.fixture
def tables() -> MetaData:
    return metadata


def _outbox_row(published_at: datetime | None) -> dict[str, object]:
    return {
        "event_id": uuid.uuid4(),
        "topic": "t",
        "key": "k",
        "payload": b"{}",
        "created_at": published_at or NOW,
        "published_at": published_at,
    }


async def test_prune_deletes_only_what_can_no_longer_matter(engine: AsyncEngine) -> None:
    maker = make_sessionmaker(engine)
    async with maker() as session, session.begin():
        await session.execute(
            insert(outbox),
            [
                *(_outbox_row(NOW - timedelta(days=2)) for _ in range(7)),  # old, published
                _outbox_row(NOW - timedelta(hours=1)),  # recent
                _outbox_row(None),  # not published yet: never pruned
            ],
        )
        await session.execute(
            insert(processed),
            [
                *(
                    {
                        "consumer": "c",
                        "event_id": uuid.uuid4(),
                        "processed_at": NOW - timedelta(days=8),
                    }
                    for _ in range(12)
                ),
                {
                    "consumer": "c",
                    "event_id": uuid.uuid4(),
                    "processed_at": NOW - timedelta(days=6),
                },
            ],
        )
        await session.execute(
            insert(idempotency),
            [
                {
                    "key": f"k{i}",
                    "principal": "p",
                    "route": "r",
                    "request_hash": "h",
                    "status_code": 201,
                    "response": {},
                    "created_at": NOW - timedelta(hours=25 if i < 3 else 1),
                }
                for i in range(5)
            ],
        )

    async with maker() as session:
        # A small batch size proves the loop goes on until nothing old is left.
        deleted = await housekeeping.prune(session, NOW, batch=5)
    assert deleted == {"outbox": 7, "processed_events": 12, "idempotency_keys": 3}

    async with maker() as session:
        left = {
            name: (await session.execute(select(func.count()).select_from(t))).scalar_one()
            for name, t in (("o", outbox), ("p", processed), ("i", idempotency))
        }
        unpublished = (
            await session.execute(select(func.count()).where(outbox.c.published_at.is_(None)))
        ).scalar_one()
    assert left == {"o": 2, "p": 1, "i": 2}
    assert unpublished == 1

    async with maker() as session:
        assert await housekeeping.prune(session, NOW) == {
            "outbox": 0,
            "processed_events": 0,
            "idempotency_keys": 0,
        }
