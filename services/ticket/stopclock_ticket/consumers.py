"""The ``tickets.commands`` consumer: other services ask the ticket service to act."""

from __future__ import annotations

import uuid
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.consumer import EventConsumer
from stopclock_shared.db import utc_now
from stopclock_shared.events.envelope import Envelope
from stopclock_shared.events.models import (
    CommentCommand,
    OpenTicketCommand,
    ReopenCommand,
    ResolveCommand,
)
from stopclock_shared.events.topics import TICKETS_COMMANDS
from stopclock_shared.events.types import EventType
from stopclock_shared.runtime import Runtime

from . import service


def command_consumer(runtime: Runtime) -> EventConsumer:
    outbox = runtime.outbox

    # A LookupError (unknown ticket or requester) is an error of the message: the consumer
    # dead-letters it with its text and goes on.
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
        await service.command_comment(session, outbox, cmd, utc_now(), env)

    async def open_(
        session: AsyncSession, env: Envelope, cmd: Any, _: ConsumerRecord[bytes, bytes]
    ) -> None:
        assert isinstance(cmd, OpenTicketCommand)
        await service.command_open(session, outbox, cmd, utc_now(), env)

    return EventConsumer(
        service=runtime.settings.service_name,
        name="ticket-commands",
        topics=[TICKETS_COMMANDS],
        handlers={
            EventType.COMMAND_RESOLVE: resolve,
            EventType.COMMAND_REOPEN: reopen,
            EventType.COMMAND_COMMENT: comment,
            EventType.COMMAND_OPEN: open_,
        },
        sessionmaker=runtime.sessionmaker,
        processed=runtime.processed,
        producer=runtime.producer,
        bootstrap=runtime.settings.kafka_bootstrap,
        group_id=runtime.settings.group_id,
    )
