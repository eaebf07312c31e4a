"""The requester's forms (survey ``/s/…``, answers ``/a/…``): one path for both pages to
read a posted form, refuse one not sent from our page, and show the form again.

The unguessable link token already binds a form to one survey or wait; on top of it
(CSRF):

- a hidden form token, HMAC-SHA256 of the link token under the service's secret, so a
  POST must come from a page we rendered (a forged cross-site form cannot know it
  without the link, and with the link it could only answer once);
- ``Origin`` (or, without it, ``Referer``) must name this site when the browser sends it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse

from .pages import PAGES
from .settings import SurveySettings

URLENCODED = "application/x-www-form-urlencoded"
_PURPOSE = b"stopclock-survey-form|"
Form = dict[str, str]


def form_token(secret: str, link_token: str) -> str:
    """The hidden field of the form served for ``link_token``."""
    mac = hmac.new(secret.encode("utf-8"), _PURPOSE + link_token.encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()


def form_token_ok(secret: str, link_token: str, presented: str | None) -> bool:
    """Constant-time check of the hidden field."""
    if not presented:
        return False
    expected = form_token(secret, link_token)
    return hmac.compare_digest(expected.encode("ascii"), presented.encode("utf-8", "replace"))


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-cased; None when it has none."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_site(origin: str | None, referer: str | None, allowed: Iterable[str]) -> bool:
    """True unless the browser says the form was sent from another site.

    ``Origin: null`` (privacy modes, some redirects) and a missing header say nothing,
    so they pass; the form token still has to match.
    """
    allowed_origins = {a.lower().rstrip("/") for a in allowed}
    if origin and origin != "null":
        return origin.lower().rstrip("/") in allowed_origins
    if referer:
        return origin_of(referer) in allowed_origins
    return True


def text(value: object) -> str:
    """A form value as text ("" when absent)."""
    return value if isinstance(value, str) else ""


async def read_form(request: Request, max_bytes: int) -> Form | None:
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
    form: Form = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(name, value)  # the first value wins, as a browser sends one
    return form


@dataclass(frozen=True)
class FormPage:
    """One requester form: where it posts, its template, its limits, and what its page
    says to a form not sent from it. Both pages go through the same steps with it."""

    path: str  # "/s/" or "/a/", followed by the link's token
    template: str
    max_comment: int
    max_bytes: int
    refused: str = "refused"  # the notice kind of a form not sent from our page
    scope_prefix: str = ""  # so that the form token of one page never passes on another

    def _scope(self, token: str) -> str:
        return self.scope_prefix + token

    async def read(self, request: Request) -> Form | None:
        """The posted form, read before anything is looked up or locked."""
        return await read_form(request, self.max_bytes)

    def accept(
        self,
        request: Request,
        settings: SurveySettings,
        token: str,
        form: Form | None,
        locale: str,
        ticket: object,
    ) -> Form | HTMLResponse:
        """The form, or the page refusing it: too large (413), not sent from our page (403)."""
        if form is None:
            return PAGES.notice("too_large", 413, locale, ticket)
        allowed = {origin_of(settings.public_survey_url), origin_of(str(request.base_url))}
        same = same_site(
            request.headers.get("origin"),
            request.headers.get("referer"),
            {a for a in allowed if a is not None},
        )
        secret = settings.jwt_secret.get_secret_value()
        if not same or not form_token_ok(secret, self._scope(token), text(form.get("form_token"))):
            return PAGES.notice(self.refused, 403, locale, ticket)
        return form

    def show(
        self,
        settings: SurveySettings,
        token: str,
        status: int,
        locale: str,
        *,
        values: object,
        errors: dict[str, str],
        **context: Any,
    ) -> HTMLResponse:
        """The form (again, with ``errors`` and what was entered, when ``status`` is 422)."""
        secret = settings.jwt_secret.get_secret_value()
        return PAGES.render(
            self.template,
            status,
            locale,
            action=f"{self.path}{token}",
            form_token=form_token(secret, self._scope(token)),
            values=values,
            errors=errors,
            max_comment=self.max_comment,
            **context,
        )


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
