"""Async SQLAlchemy engine/session helpers and the tables every service shares."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    event,
    exc,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Text widths every database shares, so each fact has one number: an id or a name as the
# API bounds it, a mail address (RFC 5321: 64 + 1 + 255) and a language tag.
IDENTIFIER = String(200)
MAIL_ADDRESS = String(320)
LANGUAGE_TAG = String(16)


def utc_now() -> datetime:
    """The one clock read of the edge; domain code takes ``now`` as an argument."""
    return datetime.now(UTC)


def make_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_timeout=10)
    # Instead of pool_pre_ping (three round trips per checkout with asyncpg: BEGIN, ";",
    # ROLLBACK): a server that went away closed its sockets, and asyncpg saw that on the
    # event loop, so a closed connection is known without asking. The pool replaces it.
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("the server closed this pooled connection")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def common_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    """The outbox, processed-events and idempotency-key tables, added to a service's metadata."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("topic", IDENTIFIER, nullable=False),
        Column("key", IDENTIFIER, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        timestamp_column("created_at"),
        timestamp_column("published_at", nullable=True),
    )
    Index("ix_outbox_unpublished", outbox.c.id, postgresql_where=outbox.c.published_at.is_(None))
    processed = Table(
        "processed_events",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        timestamp_column("processed_at"),
    )
    idempotency = Table(
        "idempotency_keys",
        metadata,
        Column("key", IDENTIFIER),
        Column("principal", IDENTIFIER),
        Column("route", IDENTIFIER),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", JSONB, nullable=False),
        timestamp_column("created_at"),
        # One stored answer per key, per caller, per route.
        PrimaryKeyConstraint("key", "principal", "route"),
    )
    return outbox, processed, idempotency


def timestamp_column(name: str, *, nullable: bool = False) -> Column[object]:
    """A timezone-aware timestamp; a required one defaults to the database's ``now()``."""
    if nullable:
        return Column(name, DateTime(timezone=True))
    return Column(name, DateTime(timezone=True), nullable=False, server_default=text("now()"))


def service_metadata() -> tuple[MetaData, Table, Table, Table]:
    """A service's metadata with the tables every service has: (metadata, outbox,
    processed_events, idempotency_keys)."""
    metadata = make_metadata()
    return (metadata, *common_tables(metadata))


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` once ``session``'s transaction has committed (never on rollback):
    in-memory state (timers, counters, a sender's wake-up) follows only what is stored."""
    event.listen(session.sync_session, "after_commit", lambda _session: callback(), once=True)


async def session_scope(request: Request) -> AsyncIterator[AsyncSession]:
    """Request-scoped session: commit when the handler returns, roll back when it raises."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": commit before the response is sent, so a 2xx always means committed.
SessionDep = Annotated[AsyncSession, Depends(session_scope, scope="function")]

__all__ = [
    "JSONB",
    "SessionDep",
    "Text",
    "after_commit",
    "common_tables",
    "make_engine",
    "utc_now",
]
