"""``Idempotency-Key`` for creating POSTs: same key and body within 24 h → the first answer.

The key, a hash of the request and the response are stored in the same transaction as the
creation, so a retried request after a crash either sees the first answer or creates once.
The same key with another body is a 422.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .problems import ProblemError

TTL = timedelta(hours=24)


def request_hash(body: Any) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


class IdempotencyStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    async def lookup(
        self, session: AsyncSession, key: str, principal: str, route: str, body_hash: str
    ) -> tuple[int, Any] | None:
        t = self.table
        # Serialize concurrent requests with the same key until this transaction ends.
        await session.execute(
            select(func.pg_advisory_xact_lock(func.hashtext(f"{principal}|{route}|{key}")))
        )
        row = (
            await session.execute(
                select(t.c.request_hash, t.c.status_code, t.c.response).where(
                    t.c.key == key,
                    t.c.principal == principal,
                    t.c.route == route,
                    t.c.created_at > func.now() - TTL,
                )
            )
        ).first()
        if row is None:
            return None
        if row.request_hash != body_hash:
            raise ProblemError(
                422,
                "Idempotency key reused",
                "This Idempotency-Key was already used with a different request body",
            )
        return row.status_code, row.response

    async def store(
        self,
        session: AsyncSession,
        key: str,
        principal: str,
        route: str,
        body_hash: str,
        status_code: int,
        response: Any,
    ) -> None:
        t = self.table
        await session.execute(
            delete(t).where(
                t.c.key == key,
                t.c.principal == principal,
                t.c.route == route,
                t.c.created_at <= func.now() - TTL,
            )
        )
        await session.execute(
            insert(t).values(
                key=key,
                principal=principal,
                route=route,
                request_hash=body_hash,
                status_code=status_code,
                response=response,
            )
        )
