"""The form parts of the requester's pages (survey ``/s/…``, answers ``/a/…``).

The page machinery (template environment with autoescape, base template, stylesheet and
its CSP hash) is ``stopclock_shared.pages``; here are the survey's words and notices, the
form reader with its size limit, and the form guard (hidden HMAC field + Origin/Referer).
Every outcome is a small, polite HTML page in the requester's language, never a stack
trace or problem JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import HTMLResponse

from stopclock_shared.pages import Pages

from .form_guard import form_token, form_token_ok, origin_of, same_site
from .page_text import WORDS
from .settings import SurveySettings

URLENCODED = "application/x-www-form-urlencoded"
_TEMPLATES = Path(__file__).parent / "templates"
_STATUS_PAGES = {
    200: "The page",
    403: "Form not sent from our page (form token, Origin or Referer): a page saying so",
    404: "Unknown or forged link: a page saying so",
    409: "Already answered: a page saying so; nothing is stored",
    410: "The link's survey or wait is over: a page saying what happened",
    413: "Form too large: a page saying so",
    422: "The form again, saying what to fix",
}


@dataclass(frozen=True)
class SurveyPages(Pages):
    """The shared page machinery with the survey's one-message pages."""

    def notice(
        self,
        kind: str,
        status: int,
        locale: str,
        ticket: Any = None,
        date: str = "",
    ) -> HTMLResponse:
        """A one-message page: ``kind`` names its words (``<kind>_title/_heading/_body``)."""
        return self.render("notice.html.j2", status, locale, kind=kind, ticket=ticket, date=date)


PAGES = SurveyPages.load(_TEMPLATES, WORDS)


def html_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` of a page route: every status answers an HTML page."""
    return {
        status: {"description": _STATUS_PAGES[status], "content": {"text/html": {}}}
        for status in statuses
    }


def form_body(fields: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    """OpenAPI ``openapi_extra=`` of a route reading our URL-encoded form by hand (the page
    answers with HTML, never with FastAPI's validation JSON, so the form is no parameter)."""
    schema = {
        "type": "object",
        "properties": {
            "form_token": {"type": "string", "description": "The hidden field of our page"},
            **fields,
        },
        "required": ["form_token", *required],
    }
    return {"requestBody": {"required": True, "content": {URLENCODED: {"schema": schema}}}}


def settings_of(request: Request) -> SurveySettings:
    settings: SurveySettings = request.app.state.settings
    return settings


def guard_token(request: Request, scope: str) -> str:
    """The hidden form field of a page served for ``scope`` (the link's token)."""
    return form_token(settings_of(request).jwt_secret.get_secret_value(), scope)


def from_our_page(request: Request, scope: str, presented: str) -> bool:
    """The form was sent from a page we served for ``scope``, on our own site."""
    settings = settings_of(request)
    allowed = {origin_of(settings.public_survey_url), origin_of(str(request.base_url))}
    same = same_site(
        request.headers.get("origin"),
        request.headers.get("referer"),
        {a for a in allowed if a is not None},
    )
    return same and form_token_ok(settings.jwt_secret.get_secret_value(), scope, presented)


async def read_form(request: Request, max_bytes: int) -> dict[str, str] | None:
    """The URL-encoded form our page sends, read up to ``max_bytes`` (None beyond).

    Other encodings give an empty form, which then fails the form-token check.
    """
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            return None
    if request.headers.get("content-type", "").split(";")[0].strip() != URLENCODED:
        return {}
    fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    form: dict[str, str] = {}
    for name, value in fields:
        form.setdefault(name, value)  # the first value wins, as a browser sends one
    return form


def text(value: Any) -> str:
    """A form value as text ("" when absent)."""
    return value if isinstance(value, str) else ""
