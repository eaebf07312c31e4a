"""The survey page: ``GET /s/{token}`` shows the form, ``POST /s/{token}`` stores the answer.

Unknown link 404, closed survey 410, second answer 409, form not from our page 403, too
large 413, bad answer 422 (the form again, with what to fix); the machinery (templates,
CSP, form guard) is ``pages.py``, shared with the answer pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from stopclock_shared.db import SessionDep, utc_now

from . import repository as repo
from . import service
from .domain.errors import AlreadyAnswered, InvalidAnswer, SurveyExpired
from .domain.survey import MAX_COMMENT_LENGTH, RATINGS, SurveyStatus
from .domain.tokens import token_digest
from .page_text import WORDS, local_date, locale_from_header, locale_of
from .pages import PAGES, form_body, from_our_page, guard_token, html_responses, read_form, text

router = APIRouter(tags=["survey page"])
# A rating, a yes/no and a 2000-character comment fit many times over.
MAX_FORM_BYTES = 32_768


@dataclass(frozen=True)
class FormValues:
    """What the requester entered, shown again when the form comes back with errors."""

    rating: int | None
    resolved: str | None  # "yes" | "no"
    comment: str


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
    return PAGES.notice(kind, status, locale, row["ticket"] if row is not None else None, date)


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
        "survey_form.html.j2",
        status,
        locale,
        ticket=row["ticket"],
        action=f"/s/{token}",
        form_token=guard_token(request, token),
        values=values,
        errors=errors,
        max_comment=MAX_COMMENT_LENGTH,
        expires=_date(row, "expires_at"),
    )


def rating_of(text: str) -> int | None:
    """The rating a form or link gives: plain ASCII digits only (``"²".isdigit()`` is true,
    and a 5000-digit number is refused by ``int``), else None (the form asks again)."""
    if not text.isascii() or not text.isdigit() or len(text) > 3:
        return None
    return int(text)


@router.get(
    "/s/{token}",
    response_class=HTMLResponse,
    summary="The survey form",
    responses=html_responses(200, 404, 409, 410),
)
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
    given = rating_of(rating or "")
    preselected = given if given in RATINGS else None
    return _form(request, row, token, 200, FormValues(preselected, None, ""), {})


@router.post(
    "/s/{token}",
    response_class=HTMLResponse,
    summary="Answer the survey (once)",
    responses=html_responses(200, 403, 404, 409, 410, 413, 422),
    openapi_extra=form_body(
        {
            "rating": {"type": "integer", "minimum": 1, "maximum": 5},
            "resolved": {"type": "string", "enum": ["yes", "no"]},
            "comment": {"type": "string", "maxLength": MAX_COMMENT_LENGTH},
        },
        ["rating", "resolved"],
    ),
)
async def submit(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    form = await read_form(request, MAX_FORM_BYTES)
    row = await repo.survey_by_digest(session, token_digest(token), for_update=True)
    locale = _locale(row, request)
    if form is None:
        return _notice("too_large", 413, locale, row)
    if row is None:
        return _notice("not_found", 404, locale, None)
    if not from_our_page(request, token, text(form.get("form_token"))):
        return _notice("refused", 403, locale, row)
    closed = await _closed(session, row, locale)
    if closed is not None:
        return closed

    raw_rating = text(form.get("rating")).strip()
    raw_resolved = text(form.get("resolved")).strip().lower()
    comment = text(form.get("comment"))
    values = FormValues(
        rating=rating_of(raw_rating),
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
        "survey_thanks.html.j2",
        200,
        locale,
        ticket=row["ticket"],
        negative=result.negative,
        reopened=result.reopened,
    )


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
