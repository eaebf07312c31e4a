"""The HTTP guards every service gets from the shared runtime: 413 before parsing a large body,
503 with Retry-After when a dependency is down, problem JSON in both cases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import sqlalchemy.exc
from fastapi import FastAPI
from pydantic import BaseModel

from stopclock_shared.http_guards import RequestGuard
from stopclock_shared.problems import PROBLEM_JSON, install_problem_handlers

LIMIT = 1024


class Body(BaseModel):
    text: str


def _wrapped(cause: Exception) -> sqlalchemy.exc.DBAPIError:
    """What SQLAlchemy's asyncpg dialect raises: a DBAPIError whose cause is the driver's."""
    adapted = Exception(str(cause))
    adapted.__cause__ = cause
    return sqlalchemy.exc.DBAPIError("SELECT $1", {}, adapted)


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RequestGuard, max_bytes=LIMIT)
    parsed: list[int] = []
    app.state.parsed = parsed

    @app.post("/echo")
    async def echo(body: Body) -> dict[str, int]:
        parsed.append(len(body.text))
        return {"length": len(body.text)}

    @app.get("/down/{kind}")
    async def down(kind: str) -> None:
        errors: dict[str, Exception] = {
            "refused": ConnectionRefusedError(111, "Connect call failed"),
            "timeout": TimeoutError(),
            "starting": asyncpg.exceptions.CannotConnectNowError("the database system is starting"),
            "pool": sqlalchemy.exc.InterfaceError("SELECT 1", {}, Exception("closed")),
            "range": sqlalchemy.exc.DataError("SELECT $1", {}, Exception("out of int64 range")),
            "date": OverflowError("date value out of range"),
            "encode": _wrapped(
                asyncpg.exceptions._base.DataError("invalid input for query argument $1")
            ),
            "too-long": _wrapped(asyncpg.exceptions.StringDataRightTruncationError("too long")),
            "gone": _wrapped(ConnectionResetError("reset by peer")),
            "bug": _wrapped(asyncpg.exceptions.UndefinedColumnError("no such column")),
        }
        raise errors[kind]

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_a_body_under_the_limit_is_served(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", json={"text": "x" * 100})
    assert response.status_code == 200
    assert response.json() == {"length": 100}


async def test_a_declared_large_body_is_refused_with_413_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", json={"text": "x" * (LIMIT * 2)})
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["status"] == 413
    assert "1024" in response.json()["detail"]


@pytest.mark.parametrize("url", ["/echo?x=%00", "/echo/%00", "/echo?q=a%00b"])
async def test_nul_in_the_path_or_query_is_422(client: httpx.AsyncClient, url: str) -> None:
    response = await client.post(url, json={"text": "fine"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "NUL" in response.json()["detail"]


async def test_nul_escaped_in_a_json_body_is_422_before_the_route(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/echo", content=b'{"text": "a\\u0000b"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "NUL" in response.json()["detail"]


async def test_an_escaped_backslash_before_u0000_is_just_text(client: httpx.AsyncClient) -> None:
    # JSON "a\\u0000b" is the text a\u0000b: eight characters, no NUL.
    response = await client.post(
        "/echo",
        content=b'{"text": "a\\\\u0000b"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {"length": 8}


async def test_a_chunked_large_body_is_refused_before_the_route_sees_it() -> None:
    app = _app()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(8):
            yield b"y" * 512
        yield b'"}'

    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.post(
            "/echo", content=chunks(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    assert app.state.parsed == []


@pytest.mark.parametrize("kind", ["range", "date", "encode", "too-long"])
async def test_a_value_that_cannot_be_stored_is_422(client: httpx.AsyncClient, kind: str) -> None:
    response = await client.get(f"/down/{kind}")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON


@pytest.mark.parametrize("kind", ["refused", "timeout", "starting", "pool", "gone"])
async def test_a_dependency_that_is_down_is_503_with_retry_after(
    client: httpx.AsyncClient, kind: str
) -> None:
    response = await client.get(f"/down/{kind}")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_JSON
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["title"] == "Service unavailable"


async def test_a_database_error_that_is_our_bug_stays_a_500(client: httpx.AsyncClient) -> None:
    response = await client.get("/down/bug")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_a_browser_asking_for_a_page_gets_a_page_when_a_dependency_is_down(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/down/refused", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert int(response.headers["retry-after"]) > 0
    assert "try again in a minute" in response.text
