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
from sqlalchemy import ColumnElement, Table, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .problems import ProblemError

TTL = timedelta(hours=24)


def request_hash(body: Any) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _scope(key: str, principal: str, route: str) -> dict[str, str]:
    """A key counts only for the principal and the route that used it."""
    return {"key": key, "principal": principal, "route": route}


def _within(table: Table, scope: dict[str, str]) -> list[ColumnElement[bool]]:
    return [table.c[column] == value for column, value in scope.items()]


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
                    *_within(t, _scope(key, principal, route)), t.c.created_at > func.now() - TTL
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
        scope = _scope(key, principal, route)
        await session.execute(
            delete(t).where(*_within(t, scope), t.c.created_at <= func.now() - TTL)
        )
        await session.execute(
            insert(t).values(
                **scope, request_hash=body_hash, status_code=status_code, response=response
            )
        )
