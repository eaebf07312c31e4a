"""The benchmarks' HTTP load generator: aiohttp, because on a 2-core machine shared with the
stack every millisecond the client burns is taken from the services it measures (httpx
costs several times more CPU per request)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import aiohttp
import orjson


def incident(requester_id: str, title: str, description: str) -> dict[str, str]:
    """The body of the incident a bench posts over and over: medium impact, high urgency."""
    return {
        "type": "incident",
        "title": title,
        "description": description,
        "requester_id": requester_id,
        "impact": "medium",
        "urgency": "high",
    }


class LoadClient:
    """Keep-alive JSON client for one base URL; ``post`` returns (status, decoded body)."""

    def __init__(self, base_url: str, connections: int = 100) -> None:
        self.base_url = base_url.rstrip("/")
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> LoadClient:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.connections),
            timeout=aiohttp.ClientTimeout(total=30),
            json_serialize=lambda obj: orjson.dumps(obj).decode(),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        assert self._session is not None, "use `async with LoadClient(...)`"
        async with self._session.post(self.base_url + path, json=body, headers=headers) as r:
            raw = await r.read()
            return r.status, orjson.loads(raw) if raw else None
