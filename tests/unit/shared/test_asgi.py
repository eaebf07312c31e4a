"""The base of the services' middlewares: HTTP to the middleware, the rest straight on."""

from __future__ import annotations

from typing import Any

import pytest

from stopclock_shared.asgi import HttpMiddleware, Scope


class Recording(HttpMiddleware):
    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.seen: list[str] = []

    async def http(self, scope: Scope, receive: Any, send: Any) -> None:
        self.seen.append(scope["path"])


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
async def test_anything_but_http_goes_straight_to_the_app(kind: str) -> None:
    reached: list[str] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        reached.append(scope["type"])

    middleware = Recording(app)
    await middleware({"type": kind, "path": "/ws"}, None, None)
    assert reached == [kind]
    assert middleware.seen == []


async def test_http_requests_go_to_the_middleware() -> None:
    reached: list[str] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        reached.append(scope["type"])

    middleware = Recording(app)
    await middleware({"type": "http", "path": "/api/v1/tickets"}, None, None)
    assert middleware.seen == ["/api/v1/tickets"]
    assert reached == []
