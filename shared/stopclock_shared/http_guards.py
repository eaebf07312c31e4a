"""Refuse, before anything parses them, requests no service can store: bodies over a size limit
(413) and NUL characters in the path, the query or a JSON body (422; PostgreSQL text cannot
hold them). Both answers are problem JSON."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from .asgi import ASGIApp, HttpMiddleware, Scope
from .problems import PROBLEM_JSON, TYPE_BASE

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# A JSON escape of NUL: \u0000 preceded by an even number of backslashes (an odd number
# means the backslash itself was escaped, and the text is the six characters "\u0000").
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_URL_NUL = re.compile(rb"%00|\x00")

# A too-large body up to this many times the limit is read and dropped before the 413; a
# larger one is refused without reading it (the connection then closes).
DRAIN_FACTOR = 8

Send = Callable[[dict[str, Any]], Awaitable[None]]


async def _drain(receive: Any) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _is_json(headers: dict[bytes, bytes]) -> bool:
    kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    return kind == b"application/json" or kind.endswith(b"+json")


async def _problem(send: Send, status: int, title: str, detail: str, path: str) -> None:
    body = orjson.dumps(
        {
            "type": TYPE_BASE + title.lower().replace(" ", "-"),
            "title": title,
            "status": status,
            "detail": detail,
            "instance": path,
        }
    )
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestGuard(HttpMiddleware):
    """ASGI middleware in front of every service's routes.

    - A declared ``Content-Length`` over ``max_bytes`` is refused at once; a body without one
      (chunked) is counted as it arrives and refused when it goes over.
    - A NUL in the path or query string, or escaped in a JSON body, is a 422.
    JSON bodies are read whole here (they are bounded by ``max_bytes``) and handed on as read.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def http(self, scope: Scope, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        headers = dict(scope.get("headers") or [])
        if _URL_NUL.search(scope.get("raw_path") or b"") or _URL_NUL.search(
            scope.get("query_string") or b""
        ):
            await _problem(send, 422, "Validation error", "NUL characters are not allowed", path)
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            if int(declared) <= DRAIN_FACTOR * self.max_bytes:
                # Read what the client is sending anyway, so that it can read our answer
                # (many clients write the whole body before they read).
                await _drain(receive)
            await self._too_large(send, path)
            return
        if _is_json(headers):
            await self._buffered(scope, receive, send, path)
        else:
            await self._streamed(scope, receive, send, path)

    async def _too_large(self, send: Send, path: str) -> None:
        detail = f"The request body is larger than {self.max_bytes} bytes"
        await _problem(send, 413, "Too large", detail, path)

    async def _buffered(self, scope: Any, receive: Any, send: Any, path: str) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before sending its body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send, path)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _JSON_NUL.search(body):
            await _problem(send, 422, "Validation error", "NUL characters are not allowed", path)
            return
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _streamed(self, scope: Any, receive: Any, send: Any, path: str) -> None:
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
                        await self._too_large(send, path)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            if not refused:
                await send(message)

        await self.app(scope, counted, guarded)
