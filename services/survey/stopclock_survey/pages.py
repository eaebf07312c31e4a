"""The requester's pages (survey ``/s/…``, answers ``/a/…``): the shared page machinery
(``stopclock_shared.pages``: templates with autoescape, base template, stylesheet and its
CSP hash) with the survey's words and one-message notices, and how a page route documents
its answers. Every outcome is a small, polite HTML page in the requester's language, never
a stack trace or problem JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse

from stopclock_shared.pages import Pages

from .words import WORDS

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
        self, kind: str, status: int, locale: str, ticket: object = None, date: str = ""
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
