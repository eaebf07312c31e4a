"""The ``tickets.commands`` consumer: other services ask the ticket service to act.

Decoding and routing only: each command's contract model is decoded once by the shared
consumer and handed to its use case with a unit of work on the delivery's transaction.
"""

from __future__ import annotations

from stopclock_shared.consumer import EventConsumer
from stopclock_shared.db import utc_now
from stopclock_shared.event_routes import Delivery, Routes
from stopclock_shared.events.commands import (
    CommentCommand,
    OpenTicketCommand,
    ReopenCommand,
    ResolveCommand,
)
from stopclock_shared.events.topics import TICKETS_COMMANDS
from stopclock_shared.events.types import EventType
from stopclock_shared.outbox import Outbox
from stopclock_shared.runtime import Runtime
from stopclock_shared.unit_of_work import SqlUnitOfWork

from . import use_cases
from .repository import SqlTicketRepository


def command_routes(outbox: Outbox) -> Routes:
    """Command type -> handler. A `LookupError` (unknown ticket or requester) is an error
    of the message: the consumer dead-letters it with its text and goes on."""

    def uow(delivery: Delivery) -> SqlUnitOfWork[SqlTicketRepository]:
        session = delivery.session
        return SqlUnitOfWork(session, outbox, SqlTicketRepository(session, outbox))

    async def resolve(command: ResolveCommand, delivery: Delivery) -> None:
        await use_cases.resolve_by_command(uow(delivery), command, utc_now(), delivery.envelope)

    async def reopen(command: ReopenCommand, delivery: Delivery) -> None:
        await use_cases.reopen_by_command(uow(delivery), command, utc_now(), delivery.envelope)

    async def comment(command: CommentCommand, delivery: Delivery) -> None:
        await use_cases.comment_by_command(uow(delivery), command, utc_now(), delivery.envelope)

    async def open_(command: OpenTicketCommand, delivery: Delivery) -> None:
        await use_cases.open_by_command(uow(delivery), command, utc_now(), delivery.envelope)

    routes = Routes().on(EventType.COMMAND_RESOLVE, resolve).on(EventType.COMMAND_REOPEN, reopen)
    return routes.on(EventType.COMMAND_COMMENT, comment).on(EventType.COMMAND_OPEN, open_)


def command_consumer(runtime: Runtime) -> EventConsumer:
    return runtime.consumer("ticket-commands", [TICKETS_COMMANDS], command_routes(runtime.outbox))
