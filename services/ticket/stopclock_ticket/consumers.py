"""The ``tickets.commands`` consumer: other services ask the ticket service to act."""

from __future__ import annotations

import uuid
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.auth import Principal, Role
from stopclock_shared.consumer import EventConsumer
from stopclock_shared.db import utc_now
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.models import CommentCommand, ReopenCommand, ResolveCommand
from stopclock_shared.events.topics import TICKETS_COMMANDS
from stopclock_shared.events.types import EventType
from stopclock_shared.runtime import Runtime

from . import service
from .domain import Actor
from .domain import Role as DomainRole
from .schemas import CommentIn


def command_consumer(runtime: Runtime) -> EventConsumer:
    outbox = runtime.outbox

    async def resolve(
        session: AsyncSession, env: Envelope, cmd: Any, _: ConsumerRecord[bytes, bytes]
    ) -> None:
        assert isinstance(cmd, ResolveCommand)
        await service.command_resolve(
            session, outbox, uuid.UUID(cmd.ticket_id), cmd.resolution, cmd.reason, utc_now(), env
        )

    async def reopen(
        session: AsyncSession, env: Envelope, cmd: Any, _: ConsumerRecord[bytes, bytes]
    ) -> None:
        assert isinstance(cmd, ReopenCommand)
        await service.command_reopen(
            session, outbox, uuid.UUID(cmd.ticket_id), cmd.reason, utc_now(), env
        )

    async def comment(
        session: AsyncSession, env: Envelope, cmd: Any, _: ConsumerRecord[bytes, bytes]
    ) -> None:
        assert isinstance(cmd, CommentCommand)
        author = f"system:{env.source}"
        await service.add_comment(
            session,
            outbox,
            Principal(sub=author, roles=frozenset({Role.SERVICE})),
            uuid.UUID(cmd.ticket_id),
            CommentIn(body=cmd.body, visibility=cmd.visibility),
            utc_now(),
            actor=Actor(id=author, roles=frozenset({DomainRole.SERVICE})),
            cause=env,
        )

    return EventConsumer(
        service=runtime.settings.service_name,
        name="ticket-commands",
        topics=[TICKETS_COMMANDS],
        handlers={
            EventType.COMMAND_RESOLVE: resolve,
            EventType.COMMAND_REOPEN: reopen,
            EventType.COMMAND_COMMENT: comment,
        },
        sessionmaker=runtime.sessionmaker,
        processed=runtime.processed,
        producer=runtime.producer,
        bootstrap=runtime.settings.kafka_bootstrap,
        group_id=runtime.settings.group_id,
    )
