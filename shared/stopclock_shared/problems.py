"""RFC 9457 problem details for every error the HTTP APIs return."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .errors import Conflict, DomainError, Forbidden, Gone, Invalid, NotFound

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5
# Errors that mean "this value cannot be stored or computed": the request is wrong.
UNSTORABLE_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.DataError,
    asyncpg.exceptions.DataError,  # PostgreSQL refused the value (SQLSTATE class 22)
    asyncpg.exceptions._base.DataError,  # the driver could not encode it (e.g. out of range)
    OverflowError,
)
# Errors that mean "a dependency is down", not "the request is wrong": connection refused or
# reset (OSError), connect or query time-outs, a pool that cannot connect, PostgreSQL refusing
# connections while it starts or shuts down.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.TimeoutError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.AdminShutdownError,
)
TYPE_BASE = "https://stopclock.dev/problems/"
log = logging.getLogger(__name__)


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_ or TYPE_BASE + title.lower().replace(" ", "-")
        self.errors = errors
        self.extra = extra


_DESCRIPTIONS = {
    401: "Missing or bad token",
    403: "Not allowed",
    404: "Unknown id",
    409: "State conflict",
    410: "Gone",
    413: "Too large",
    422: "Validation error",
    503: "A dependency is unavailable (Retry-After says when to try again)",
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for routes answering these problem statuses."""
    chosen = codes or (401, 403, 404, 409, 422)
    return {
        code: {"description": _DESCRIPTIONS.get(code, "Error"), "content": {PROBLEM_JSON: {}}}
        for code in chosen
    }


def not_found(what: str, ident: object) -> ProblemError:
    return ProblemError(404, "Not found", f"{what} {ident} does not exist")


def field_error(field: str, message: str, status: int = 422) -> ProblemError:
    return ProblemError(
        status,
        "Validation error",
        message,
        errors=[{"field": field, "message": message}],
    )


DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Gone: 410,
    Invalid: 422,
}


def problem_of(error: DomainError) -> ProblemError:
    """The problem document of a domain refusal (its nearest known kind decides the status)."""
    status = next((DOMAIN_STATUS[k] for k in type(error).__mro__ if k in DOMAIN_STATUS), 400)
    errors = None
    if isinstance(error, Invalid):
        errors = [{"field": e.field, "message": e.message} for e in error.errors]
    return ProblemError(status, error.title, error.detail, errors=errors, **error.extra)


def problem_response(
    problem: ProblemError, instance: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail or problem.title,
    }
    if instance:
        body["instance"] = instance
    if problem.errors is not None:
        body["errors"] = problem.errors
    body.update(problem.extra)
    headers = dict(headers or {})
    if problem.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


# What a browser shows when a page cannot be served right now: no stack trace, no JSON, and
# what to do (both languages we write in; no script, no external resource).
UNAVAILABLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Please try again in a minute</title></head>
<body style="font-family: sans-serif; max-width: 36rem; margin: 2rem auto; line-height: 1.5">
<h1>Please try again in a minute</h1>
<p>We cannot open this page right now. Nothing you sent is lost: reload the page in a minute,
or reply to our email instead.</p>
<h2 lang="fr">Merci de réessayer dans une minute</h2>
<p lang="fr">Nous ne pouvons pas ouvrir cette page pour le moment. Rien de ce que vous avez
envoyé n'est perdu : rechargez la page dans une minute, ou répondez plutôt à notre e-mail.</p>
</body></html>
"""


def _driver_cause(exc: BaseException) -> BaseException | None:
    """The exception asyncpg raised under SQLAlchemy's wrappers, if any."""
    seen: BaseException | None = getattr(exc, "orig", None)
    for _ in range(3):
        if seen is None or isinstance(seen, asyncpg.exceptions.PostgresError | OSError):
            return seen
        if isinstance(seen, asyncpg.exceptions.InterfaceError | ValueError | OverflowError):
            return seen
        seen = seen.__cause__
    return seen


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` a problem document (never an HTML page or bare 500)."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc, request.url.path)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"field": _loc(e.get("loc", ())), "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(
            ProblemError(422, "Validation error", detail, errors=errors), request.url.path
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        titles = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized"}
        title = titles.get(exc.status_code, "HTTP error")
        # Keep the exception's headers: a 405 says which methods are allowed (Allow).
        return problem_response(
            ProblemError(exc.status_code, title, str(exc.detail)),
            request.url.path,
            dict(exc.headers or {}),
        )

    async def on_unavailable(request: Request, exc: Exception) -> Response:
        # The database (or another dependency) is down or refusing connections: the client
        # should come back, not conclude that its request is wrong.
        log.warning("dependency unavailable on %s %s: %r", request.method, request.url.path, exc)
        if _wants_html(request):  # a requester's page opened in a browser
            return HTMLResponse(
                UNAVAILABLE_PAGE,
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
            )
        response = problem_response(
            ProblemError(
                503,
                "Service unavailable",
                "A dependency of this service is unavailable; retry shortly.",
            ),
            request.url.path,
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    async def on_unstorable(request: Request, exc: Exception) -> JSONResponse:
        # A value the request carried that the database (or the arithmetic on it) cannot
        # hold: out of range, too long for its column, a bad byte. Routes validate what they
        # can; this is the net under them, so bad input never answers 500.
        log.info("unstorable value on %s %s: %r", request.method, request.url.path, exc)
        return problem_response(
            ProblemError(
                422,
                "Validation error",
                "A value in the request is out of range or cannot be stored.",
            ),
            request.url.path,
        )

    async def on_database_error(request: Request, exc: Exception) -> Response:
        # SQLAlchemy wraps what asyncpg raised; its cause says whose fault it was.
        cause = _driver_cause(exc)
        if isinstance(cause, UNSTORABLE_ERRORS):
            return await on_unstorable(request, exc)
        if isinstance(cause, UNAVAILABLE_ERRORS):
            return await on_unavailable(request, exc)
        return await on_unexpected(request, exc)

    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem_response(problem_of(exc), request.url.path)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            ProblemError(500, "Internal error", "An unexpected error occurred; it was logged."),
            request.url.path,
        )

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    for unstorable in UNSTORABLE_ERRORS:
        app.add_exception_handler(unstorable, on_unstorable)
    for unavailable in UNAVAILABLE_ERRORS:
        app.add_exception_handler(unavailable, on_unavailable)
    # Any other driver error: sorted by its cause (the specific classes above win first).
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, on_database_error)
    app.add_exception_handler(Exception, on_unexpected)
