"""Refuse request bodies over a size limit before anything parses them (413 problem JSON)."""

from __future__ import annotations

from typing import Any

import orjson

from .problems import PROBLEM_JSON, TYPE_BASE

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def _problem(limit: int, path: str) -> bytes:
    return orjson.dumps(
        {
            "type": TYPE_BASE + "too-large",
            "title": "Too large",
            "status": 413,
            "detail": f"The request body is larger than {limit} bytes",
            "instance": path,
        }
    )


class BodySizeLimit:
    """ASGI middleware: a declared ``Content-Length`` over ``max_bytes`` is refused at once;
    a body without one (chunked) is counted as it arrives and refused when it goes over."""

    def __init__(self, app: Any, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                too_large = False  # the server refuses a malformed length itself
            if too_large:
                await self._refuse(scope, send)
                return
        seen = 0
        started = refused = False

        async def counted() -> Any:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes and not refused:
                    # Answer 413 now (unless the app already answered); the app is told the
                    # client left, and whatever it answers to that is dropped.
                    refused = True
                    if not started:
                        await self._refuse(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            if not refused:
                await send(message)

        await self.app(scope, counted, guarded)

    async def _refuse(self, scope: Any, send: Any) -> None:
        body = _problem(self.max_bytes, scope.get("path", ""))
        headers = [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
