"""Complete every service's OpenAPI document with the answers the shared machinery gives.

Routes document their own outcomes; what every route may also answer comes from layers they
do not see, so it is added here, once:

- problem documents (RFC 9457) with a ``Problem`` schema for every 4xx/5xx a route lists;
- ``400`` (a body that is not JSON or not UTF-8), ``413`` (``http_guards.RequestGuard``) and
  ``422`` on routes that take a body; ``422`` on routes with parameters (NUL, bounds);
- ``503`` with ``Retry-After`` everywhere but the health probe (a dependency is down);
- ``/metrics`` answers Prometheus text, not JSON.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .problems import PROBLEM_JSON, problem_responses


def documented(
    model: Any, tag: str, summary: str, *, problems: tuple[int, ...] = (401, 403, 422), **more: Any
) -> dict[str, Any]:
    """A route's OpenAPI keywords in one call:
    ``@router.get("/escalations", **documented(Page[EscalationRead], "escalations", "..."))``."""
    return {
        "response_model": model,
        "responses": problem_responses(*problems),
        "tags": [tag],
        "summary": summary,
        **more,
    }


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "required": ["type", "title", "status"],
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_ADDED = {
    400: "The body is not valid JSON (or not UTF-8)",
    413: "The body is larger than the service takes",
    422: "Validation error",
    503: "A dependency is down; Retry-After says when to try again",
}
_METHODS = ("get", "put", "post", "patch", "delete")


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}}}


def _is_page(responses: dict[str, Any]) -> bool:
    """An HTML page for people (it documents its own 4xx pages)."""
    return any(
        "text/html" in (r.get("content") or {})
        for code, r in responses.items()
        if code.startswith("2")
    )


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Add the shared answers to an OpenAPI document (in place; returned for chaining)."""
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            page = _is_page(responses)
            extra: list[int] = []
            if "requestBody" in operation and not page:
                extra += [400, 413, 422]
            if operation.get("parameters") and not page:
                extra.append(422)
            if path != "/healthz":
                extra.append(503)
            for code in extra:
                responses.setdefault(str(code), _problem(_ADDED[code]))
            if "503" in responses:
                if page:  # a browser gets a page (problems.UNAVAILABLE_PAGE)
                    responses["503"]["content"]["text/html"] = {"schema": {"type": "string"}}
                responses["503"].setdefault("headers", {})["Retry-After"] = {
                    "description": "Seconds to wait before trying again",
                    "schema": {"type": "integer"},
                }
            for status, response in responses.items():
                if status[:1] not in ("4", "5"):
                    continue
                content = response.setdefault("content", {})
                content.pop("application/json", None)  # FastAPI's default 422 shape: not ours
                if "text/html" not in content:
                    content[PROBLEM_JSON] = {"schema": _PROBLEM_REF}
    metrics = document.get("paths", {}).get("/metrics", {}).get("get")
    if metrics is not None:
        metrics["responses"]["200"] = {
            "description": "Prometheus metrics (text exposition format)",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    return document


def install(app: FastAPI) -> None:
    """Serve the completed document at ``/openapi.json`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
