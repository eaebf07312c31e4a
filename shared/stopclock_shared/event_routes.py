"""Typed event handlers: which handler applies each event type, decoded once by its model.

A service declares its handlers against the contract (`events.contract.CONTRACT`):

    routes = Routes().on(EventType.TICKET_CREATED, on_ticket_created)

    async def on_ticket_created(event: TicketCreated, delivery: Delivery) -> None: ...

The consumer decodes the payload with the type's model (a payload that does not fit is
dead-lettered with the validation error) and calls the handler inside the transaction that
records the event id. Registration checks that the handler's first parameter accepts the
type's model, so a handler can never be wired to the wrong event.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from .db import after_commit
from .events.codec import MalformedMessage, short_errors
from .events.contract import CONTRACT
from .events.envelope import Envelope
from .events.payload import Payload
from .events.types import EventType

P = TypeVar("P", bound=Payload)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event being applied: its transaction, its envelope and its partition."""

    session: AsyncSession
    envelope: Envelope
    partition: int

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this event's transaction has committed (never on rollback)."""
        after_commit(self.session, callback)


@dataclass(frozen=True, slots=True)
class Route:
    """The model that decodes an event type's payload and the handler that applies it."""

    model: type[Payload]
    handler: Callable[[Any, Delivery], Awaitable[None]]

    def decode(self, envelope: Envelope) -> Payload:
        """The typed payload; `MalformedMessage` (dead-lettered) when it does not fit."""
        try:
            return self.model.model_validate(envelope.data)
        except ValidationError as exc:
            raise MalformedMessage(f"bad data for {envelope.type}: {short_errors(exc)}") from exc


class Routes:
    """Event type -> `Route`; unknown types are ignored by the consumer."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}

    def on(self, type_: EventType, handler: Callable[[P, Delivery], Awaitable[None]]) -> Routes:
        """Apply ``type_`` with ``handler`` (its first parameter must accept the type's model)."""
        model = CONTRACT[type_].model
        _check_accepts(handler, model, type_)
        self._routes[type_.value] = Route(model, handler)
        return self

    def get(self, type_: str) -> Route | None:
        return self._routes.get(type_)

    @property
    def types(self) -> frozenset[str]:
        return frozenset(self._routes)


def _check_accepts(handler: Callable[..., Any], model: type[Payload], type_: EventType) -> None:
    first = next(iter(inspect.signature(handler).parameters.values()), None)
    if first is None:
        raise TypeError(f"handler {handler.__qualname__} takes no event")
    try:
        accepted = typing.get_type_hints(handler).get(first.name)
    except NameError:  # an annotation only resolvable where the handler was defined
        return
    if accepted is None or accepted is Any:
        return
    choices = typing.get_args(accepted) or (accepted,)
    if not any(isinstance(c, type) and issubclass(model, c) for c in choices):
        name = handler.__qualname__
        raise TypeError(f"handler {name} takes {accepted!r}, but {type_} carries {model.__name__}")
