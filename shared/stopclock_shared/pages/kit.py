"""The machinery of every HTML page we serve to requesters (survey, answers, policy pages).

One Jinja2 environment per service (autoescape everywhere: whatever a ticket, a requester or
a policy holds is escaped; ``StrictUndefined``: a missing word fails the test, not the
requester), one stylesheet allowed by its CSP hash, no script at all.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Self

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

SHARED_TEMPLATES = Path(__file__).parent / "templates"
PUBLIC_MAX_AGE = 300
_SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def page_csp(css: str) -> str:
    """The Content-Security-Policy of our pages: our one stylesheet, nothing else."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


def strong_etag(body: bytes) -> str:
    """A strong entity tag over the exact bytes sent."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(
        tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(",") if tag.strip()
    )


@dataclass(frozen=True)
class Pages:
    """A service's template environment (its own templates, then the shared base) and the
    stylesheet with its CSP hash. ``words`` maps a locale to the page's words (``t``)."""

    env: Environment
    css: str
    csp: str
    words: Mapping[str, Mapping[str, str]]

    @classmethod
    def load(cls, templates: Path, words: Mapping[str, Mapping[str, str]]) -> Self:
        env = Environment(
            loader=ChoiceLoader([FileSystemLoader(templates), FileSystemLoader(SHARED_TEMPLATES)]),
            autoescape=select_autoescape(["html", "j2"], default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        css = (SHARED_TEMPLATES / "pages.css").read_text(encoding="utf-8")
        return cls(env, css, page_csp(css), words)

    def html(self, template: str, locale: str, /, **context: Any) -> str:
        """The page ``template`` rendered in ``locale`` (``t`` is that locale's words)."""
        return self.env.get_template(template).render(
            css=self.css, locale=locale, t=self.words[locale], **context
        )

    def render(self, template: str, status: int, locale: str, /, **context: Any) -> HTMLResponse:
        """A private page (its URL carries a token): never cached, never referred."""
        headers = {
            "Content-Security-Policy": self.csp,
            "Cache-Control": "no-store",
            # The token is in the URL: never leak it to another site.
            "Referrer-Policy": "same-origin",
            **_SAFETY_HEADERS,
        }
        return HTMLResponse(
            self.html(template, locale, **context), status_code=status, headers=headers
        )

    def public(self, request: Request, template: str, locale: str, /, **context: Any) -> Response:
        """A public page anyone may cache for a few minutes: strong ETag over the body,
        ``304`` when the client has it, ``Vary: Accept-Language`` (the language may come
        from it)."""
        body = self.html(template, locale, **context).encode("utf-8")
        etag = strong_etag(body)
        headers = {
            "Content-Security-Policy": self.csp,
            "Cache-Control": f"public, max-age={PUBLIC_MAX_AGE}",
            "Vary": "Accept-Language",
            "ETag": etag,
            "Content-Language": locale,
            "Referrer-Policy": "strict-origin-when-cross-origin",
            **_SAFETY_HEADERS,
        }
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return HTMLResponse(body, headers=headers)


def public_page_responses(description: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` of a public page: HTML, or 304 when the client has it."""
    return {
        200: {"description": description, "content": {"text/html": {}}},
        304: {"description": "Not modified: the page named by If-None-Match is current"},
    }


LangQuery = Annotated[
    str | None,
    Query(
        description="Language of the page: `en` or `fr` (else Accept-Language, else en; "
        "an unknown value gives English)"
    ),
]
