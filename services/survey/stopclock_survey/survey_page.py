"""The survey page: ``GET /s/{token}`` shows the form, ``POST /s/{token}`` stores the answer.

Unknown link 404, closed survey 410, second answer 409, form not from our page 403, too
large 413, bad answer 422 (the form again, with what to fix). HTTP only: the use cases
(`use_cases.surveys`) decide; the form path is `forms.FormPage`, shared with the answer
pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from stopclock_shared.db import utc_now
from stopclock_shared.pages import local_date, locale_from_header, locale_of

from .dependencies import SettingsDep, UnitOfWorkDep
from .domain.errors import AlreadyAnswered, InvalidAnswer, SurveyExpired, UnknownLink
from .domain.survey import MAX_COMMENT_LENGTH, RATINGS
from .forms import FormPage, form_body, text
from .pages import PAGES, html_responses
from .repository import SurveyRecord
from .settings import SurveySettings
from .use_cases import surveys
from .words import WORDS

router = APIRouter(tags=["survey page"])
# A rating, a yes/no and a 2000-character comment fit many times over in 32 KiB.
SURVEY_FORM = FormPage("/s/", "survey_form.html.j2", MAX_COMMENT_LENGTH, max_bytes=32_768)


@dataclass(frozen=True)
class FormValues:
    """What the requester entered, shown again when the form comes back with errors."""

    rating: int | None
    resolved: str | None  # "yes" | "no"
    comment: str


def rating_of(text: str) -> int | None:
    """The rating a form or link gives: plain ASCII digits only (``"²".isdigit()`` is true,
    and a 5000-digit number is refused by ``int``), else None (the form asks again)."""
    if not text.isascii() or not text.isdigit() or len(text) > 3:
        return None
    return int(text)


def _locale(record: SurveyRecord) -> str:
    return locale_of(record.requester.get("locale"))


def _date(record: SurveyRecord, field: str) -> str:
    moment = getattr(record.survey, field)
    return local_date(moment, _locale(record), record.requester.get("timezone"))


def _not_found(request: Request) -> HTMLResponse:
    locale = locale_from_header(request.headers.get("accept-language"))
    return PAGES.notice("not_found", 404, locale, None)


def _closed(record: SurveyRecord, error: AlreadyAnswered | SurveyExpired) -> HTMLResponse:
    """The page of a survey that takes no answer any more."""
    if isinstance(error, AlreadyAnswered):
        return PAGES.notice(
            "answered", 409, _locale(record), record.ticket, _date(record, "answered_at")
        )
    return PAGES.notice("expired", 410, _locale(record), record.ticket, _date(record, "expires_at"))


def _form(
    settings: SurveySettings,
    record: SurveyRecord,
    token: str,
    status: int,
    values: FormValues,
    errors: dict[str, str],
) -> HTMLResponse:
    return SURVEY_FORM.show(
        settings,
        token,
        status,
        _locale(record),
        values=values,
        errors=errors,
        ticket=record.ticket,
        expires=_date(record, "expires_at"),
    )


@router.get(
    "/s/{token}",
    response_class=HTMLResponse,
    summary="The survey form",
    responses=html_responses(200, 404, 409, 410),
)
async def show(
    token: str,
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    rating: str | None = None,
) -> HTMLResponse:
    try:
        record = await surveys.find_survey(uow, token)
    except UnknownLink:
        return _not_found(request)
    try:
        await surveys.ensure_open(uow, record, utc_now())
    except (AlreadyAnswered, SurveyExpired) as closed:
        return _closed(record, closed)
    given = rating_of(rating or "")
    preselected = given if given in RATINGS else None
    return _form(settings, record, token, 200, FormValues(preselected, None, ""), {})


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
async def submit(
    token: str, request: Request, uow: UnitOfWorkDep, settings: SettingsDep
) -> HTMLResponse:
    posted = await SURVEY_FORM.read(request)
    try:
        record = await surveys.find_survey(uow, token, for_update=True)
    except UnknownLink:
        return _not_found(request)
    locale = _locale(record)
    form = SURVEY_FORM.accept(request, settings, token, posted, locale, record.ticket)
    if isinstance(form, HTMLResponse):
        return form
    resolved = text(form.get("resolved")).strip().lower()
    values = FormValues(
        rating=rating_of(text(form.get("rating")).strip()),
        resolved=resolved if resolved in ("yes", "no") else None,
        comment=text(form.get("comment")),
    )
    try:
        result = await surveys.answer_survey(
            uow,
            record,
            rating=values.rating,
            resolved=None if values.resolved is None else values.resolved == "yes",
            comment=values.comment,
            now=utc_now(),
        )
    except (AlreadyAnswered, SurveyExpired) as closed:
        return _closed(record, closed)
    except InvalidAnswer as invalid:
        return _form(settings, record, token, 422, values, _errors(locale, invalid, values))
    thanks = {"negative": result.negative, "reopened": result.reopened}
    return PAGES.render("survey_thanks.html.j2", 200, locale, ticket=record.ticket, **thanks)


def _errors(locale: str, invalid: InvalidAnswer, values: FormValues) -> dict[str, str]:
    """Field problems in the requester's words, in form order."""
    t = WORDS[locale]
    fields = {e.field for e in invalid.errors}
    length = len(values.comment.strip())
    words = {
        "rating": t["error_rating"],
        "resolved": t["error_resolved"],
        "comment": t["error_comment"].format(max=MAX_COMMENT_LENGTH, length=length),
    }
    return {field: message for field, message in words.items() if field in fields}
