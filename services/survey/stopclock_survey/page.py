"""The survey web page: ``GET /s/{token}`` shows the form, ``POST /s/{token}`` stores the answer.

Every outcome is a small, polite HTML page in the requester's language, never a stack
trace or problem JSON: unknown link 404, closed survey 410, second answer 409, form not
from our page 403, bad answer 422 (the form again, with what to fix). Works without
JavaScript; Jinja2 autoescapes everything the requester or the ticket provides.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.db import SessionDep, utc_now

from . import repository as repo
from . import service
from .domain.errors import AlreadyAnswered, InvalidAnswer, SurveyExpired
from .domain.survey import MAX_COMMENT_LENGTH, RATINGS, SurveyStatus
from .domain.tokens import token_digest
from .form_guard import form_token, form_token_ok, origin_of, same_site
from .page_text import WORDS, local_date, locale_from_header, locale_of
from .settings import SurveySettings

router = APIRouter(tags=["survey page"])
# A rating, a yes/no and a 2000-character comment fit many times over.
MAX_FORM_BYTES = 32_768
URLENCODED = "application/x-www-form-urlencoded"
_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Pages:
    """The template environment and the stylesheet with its CSP hash."""

    env: Environment
    css: str
    csp: str

    @classmethod
    def load(cls) -> Pages:
        env = Environment(
            loader=FileSystemLoader(_TEMPLATES),
            autoescape=select_autoescape(["html", "j2"], default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        css = (_TEMPLATES / "survey.css").read_text(encoding="utf-8")
        digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()
        csp = (
            f"default-src 'none'; style-src 'sha256-{digest}'; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'"
        )
        return cls(env, css, csp)

    def render(self, name: str, status: int, locale: str, **context: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(
            css=self.css, locale=locale, t=WORDS[locale], **context
        )
        headers = {
            "Content-Security-Policy": self.csp,
            "Cache-Control": "no-store",
            # The token is in the URL: never leak it to another site.
            "Referrer-Policy": "same-origin",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        }
        return HTMLResponse(html, status_code=status, headers=headers)


PAGES = Pages.load()


@dataclass(frozen=True)
class FormValues:
    """What the requester entered, shown again when the form comes back with errors."""

    rating: int | None
    resolved: str | None  # "yes" | "no"
    comment: str


def _settings(request: Request) -> SurveySettings:
    settings: SurveySettings = request.app.state.settings
    return settings


def _requester(row: RowMapping) -> dict[str, Any]:
    requester: dict[str, Any] = row["ticket"].get("requester") or {}
    return requester


def _locale(row: RowMapping | None, request: Request) -> str:
    if row is None:
        return locale_from_header(request.headers.get("accept-language"))
    return locale_of(_requester(row).get("locale"))


def _date(row: RowMapping, field: str) -> str:
    return local_date(row[field], _locale_of_row(row), _requester(row).get("timezone"))


def _locale_of_row(row: RowMapping) -> str:
    return locale_of(_requester(row).get("locale"))


def _notice(
    kind: str, status: int, locale: str, row: RowMapping | None, date: str = ""
) -> HTMLResponse:
    ticket = row["ticket"] if row is not None else None
    return PAGES.render("notice.html.j2", status, locale, kind=kind, ticket=ticket, date=date)


async def _closed(session: AsyncSession, row: RowMapping, locale: str) -> HTMLResponse | None:
    """The page for a survey that takes no answer any more, or None when it is open."""
    if row["status"] == SurveyStatus.ANSWERED:
        return _notice("answered", 409, locale, row, _date(row, "answered_at"))
    if row["status"] == SurveyStatus.EXPIRED or utc_now() >= row["expires_at"]:
        await service.mark_expired(session, row)
        return _notice("expired", 410, locale, row, _date(row, "expires_at"))
    return None


def _form(
    request: Request,
    row: RowMapping,
    token: str,
    status: int,
    values: FormValues,
    errors: dict[str, str],
) -> HTMLResponse:
    locale = _locale_of_row(row)
    return PAGES.render(
        "form.html.j2",
        status,
        locale,
        ticket=row["ticket"],
        action=f"/s/{token}",
        form_token=form_token(_settings(request).jwt_secret.get_secret_value(), token),
        values=values,
        errors=errors,
        max_comment=MAX_COMMENT_LENGTH,
        expires=_date(row, "expires_at"),
    )


@router.get("/s/{token}", response_class=HTMLResponse, summary="The survey form")
async def show(
    token: str, request: Request, session: SessionDep, rating: str | None = None
) -> HTMLResponse:
    row = await repo.survey_by_digest(session, token_digest(token))
    locale = _locale(row, request)
    if row is None:
        return _notice("not_found", 404, locale, None)
    closed = await _closed(session, row, locale)
    if closed is not None:
        return closed
    preselected = int(rating) if rating and rating.isdigit() and int(rating) in RATINGS else None
    return _form(request, row, token, 200, FormValues(preselected, None, ""), {})


@router.post("/s/{token}", response_class=HTMLResponse, summary="Answer the survey (once)")
async def submit(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    form = await _read_form(request)
    row = await repo.survey_by_digest(session, token_digest(token), for_update=True)
    locale = _locale(row, request)
    if form is None:
        return _notice("too_large", 413, locale, row)
    if row is None:
        return _notice("not_found", 404, locale, None)
    if not _from_our_page(request, token, _text(form.get("form_token"))):
        return _notice("refused", 403, locale, row)
    closed = await _closed(session, row, locale)
    if closed is not None:
        return closed

    raw_rating = _text(form.get("rating")).strip()
    raw_resolved = _text(form.get("resolved")).strip().lower()
    comment = _text(form.get("comment"))
    values = FormValues(
        rating=int(raw_rating) if raw_rating.isdigit() else None,
        resolved=raw_resolved if raw_resolved in ("yes", "no") else None,
        comment=comment,
    )
    errors = _errors(locale, values)
    if errors or values.rating is None:
        return _form(request, row, token, 422, values, errors)
    try:
        result = await service.answer_survey(
            session,
            request.app.state.runtime.outbox,
            row,
            rating=values.rating,
            resolved=values.resolved == "yes",
            comment=comment,
            now=utc_now(),
        )
    except AlreadyAnswered:
        return _notice("answered", 409, locale, row, _date(row, "answered_at"))
    except SurveyExpired:
        await service.mark_expired(session, row)
        return _notice("expired", 410, locale, row, _date(row, "expires_at"))
    except InvalidAnswer as exc:
        fields = {e.field for e in exc.errors}
        return _form(request, row, token, 422, values, _errors(locale, values, fields))
    await session.commit()
    service.count_answer(result)
    return PAGES.render(
        "thanks.html.j2",
        200,
        locale,
        ticket=row["ticket"],
        negative=result.negative,
        reopened=result.reopened,
    )


async def _read_form(request: Request) -> dict[str, str] | None:
    """The URL-encoded form our page sends, read up to ``MAX_FORM_BYTES`` (None beyond).

    Other encodings give an empty form, which then fails the form-token check.
    """
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_FORM_BYTES:
            return None
    if request.headers.get("content-type", "").split(";")[0].strip() != URLENCODED:
        return {}
    fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    form: dict[str, str] = {}
    for name, value in fields:
        form.setdefault(name, value)  # the first value wins, as a browser sends one
    return form


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _errors(locale: str, values: FormValues, extra: set[str] | None = None) -> dict[str, str]:
    """Field problems in the requester's words, in form order."""
    t = WORDS[locale]
    flagged = extra or set()
    errors: dict[str, str] = {}
    if values.rating not in RATINGS or "rating" in flagged:
        errors["rating"] = t["error_rating"]
    if values.resolved is None:
        errors["resolved"] = t["error_resolved"]
    length = len(values.comment.strip())
    if length > MAX_COMMENT_LENGTH or "comment" in flagged:
        errors["comment"] = t["error_comment"].format(max=MAX_COMMENT_LENGTH, length=length)
    return errors


def _from_our_page(request: Request, token: str, presented: str) -> bool:
    settings = _settings(request)
    allowed = {origin_of(settings.public_survey_url), origin_of(str(request.base_url))}
    same = same_site(
        request.headers.get("origin"),
        request.headers.get("referer"),
        {a for a in allowed if a is not None},
    )
    return same and form_token_ok(settings.jwt_secret.get_secret_value(), token, presented)
