"""Typed routes: a handler is wired only to an event whose model it accepts, and a payload
that does not fit the model is a malformed message (dead-lettered), never a handler call."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stopclock_shared.event_routes import Delivery, Routes
from stopclock_shared.events.codec import MalformedMessage
from stopclock_shared.events.commands import ReopenCommand, ResolveCommand
from stopclock_shared.events.envelope import new_envelope
from stopclock_shared.events.payload import Payload
from stopclock_shared.events.types import EventType


async def on_reopen(event: ReopenCommand, delivery: Delivery) -> None:
    return None


async def on_any_command(event: ReopenCommand | ResolveCommand, delivery: Delivery) -> None:
    return None


async def on_payload(event: Payload, delivery: Delivery) -> None:
    return None


def envelope(type_: EventType, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return new_envelope(type_, source="tests", subject="t", time=datetime.now(UTC), data=data)


def test_a_handler_of_the_right_model_is_routed_and_decodes_typed() -> None:
    routes = Routes().on(EventType.COMMAND_REOPEN, on_reopen)
    route = routes.get(EventType.COMMAND_REOPEN.value)
    assert route is not None
    assert routes.types == {EventType.COMMAND_REOPEN.value}
    decoded = route.decode(envelope(EventType.COMMAND_REOPEN, {"ticket_id": "t-1"}))
    assert isinstance(decoded, ReopenCommand)
    assert decoded.ticket_id == "t-1"


@pytest.mark.parametrize("handler", [on_any_command, on_payload])
def test_a_handler_of_a_union_or_a_base_class_is_accepted(handler) -> None:  # type: ignore[no-untyped-def]
    assert Routes().on(EventType.COMMAND_RESOLVE, handler).get(EventType.COMMAND_RESOLVE.value)


def test_a_handler_of_another_model_is_refused_at_registration() -> None:
    with pytest.raises(TypeError, match="ResolveCommand"):
        Routes().on(EventType.COMMAND_RESOLVE, on_reopen)


def test_a_payload_that_does_not_fit_its_model_is_malformed() -> None:
    route = Routes().on(EventType.COMMAND_REOPEN, on_reopen).get(EventType.COMMAND_REOPEN.value)
    assert route is not None
    with pytest.raises(MalformedMessage, match="ticket_id"):
        route.decode(envelope(EventType.COMMAND_REOPEN, {"ticket_id": ["a", "list"]}))


def test_an_unrouted_type_has_no_route() -> None:
    assert Routes().on(EventType.COMMAND_REOPEN, on_reopen).get("stopclock.other.v1") is None
