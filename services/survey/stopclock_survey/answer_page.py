"""The answer page: ``GET /a/{token}`` shows the agent's question and a form, ``POST`` answers.

The token (``stopclock_shared.links``) names the ticket and the wait it was made for, and
is verified without a lookup: a forged one gets the 404 page. ``GET`` never changes
anything (mail scanners open every link; ``?answer=yes|no`` only pre-selects). A link
whose wait is over gets a page saying what happened (410); a second answer to the same
wait, a page saying it was answered (409). HTTP only: the use cases (`use_cases.waits`)
decide; the form path is `forms.FormPage`, shared with the survey page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from stopclock_shared.db import utc_now
from stopclock_shared.links import AnswerRef, read_answer_token
from stopclock_shared.pages import local_date, locale_from_header, locale_of
from stopclock_shared.unit_of_work import UnitOfWork

from .dependencies import SettingsDep, UnitOfWorkDep
from .domain.answers import MAX_ANSWER_LENGTH, choice_of
from .domain.errors import InvalidAnswer, UnknownLink, WaitClosed
from .domain.waits import PageKind, Verdict, WaitingTicket, page_reason
from .forms import FormPage, form_body, text
from .pages import PAGES, html_responses
from .repository import SurveyRepository
from .settings import SurveySettings
from .use_cases import waits
from .use_cases.waits import AnswerPage
from .words import WORDS

router = APIRouter(tags=["answer page"])
# 64 KiB: a yes/no and a 5000-character answer, even percent-encoded multi-byte text. The
# form token of an answer page never passes on a survey page, nor the reverse.
ANSWER_FORM = FormPage(
    "/a/", "answer_form.html.j2", MAX_ANSWER_LENGTH, 65_536, "answer_refused", "answer:"
)


@dataclass(frozen=True)
class AnswerValues:
    """What the requester entered, shown again when the form comes back with errors."""

    answer: str | None  # "yes" | "no"
    comment: str


def _locale(ticket: WaitingTicket) -> str:
    return locale_of(ticket.locale)


def _date(ticket: WaitingTicket, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return local_date(moment, _locale(ticket), ticket.timezone)


def _agent(ticket: WaitingTicket) -> str:
    return ticket.assignee_name or WORDS[_locale(ticket)]["answer_agent"]


def _not_found(request: Request) -> HTMLResponse:
    locale = locale_from_header(request.headers.get("accept-language"))
    return PAGES.notice("answer_not_found", 404, locale)


def _stale(ticket: WaitingTicket, found: Verdict, *, posted: bool) -> HTMLResponse:
    """The polite page of a link that takes no answer (any more): a wait on its way is not
    found yet (404); a second answer is a conflict (409); any other, over (410)."""
    status = 410
    if found.kind is PageKind.PENDING:
        status = 404
    elif posted and found.answered_here:
        status = 409
    return PAGES.notice(
        f"answer_{found.kind.value}", status, _locale(ticket), ticket, _date(ticket, found.at)
    )


def _form(
    settings: SurveySettings,
    page: AnswerPage,
    token: str,
    status: int,
    values: AnswerValues,
    errors: dict[str, str],
) -> HTMLResponse:
    ticket, wait = page.ticket, page.wait
    assert wait is not None  # the form is only shown for an open wait
    return ANSWER_FORM.show(
        settings,
        token,
        status,
        _locale(ticket),
        values=values,
        errors=errors,
        ticket=ticket,
        reason=page_reason(wait.reason),
        question=wait.question,
        asked=_date(ticket, wait.since),
        agent=_agent(ticket),
    )


async def _page(
    uow: UnitOfWork[SurveyRepository], ref: AnswerRef, *, for_update: bool = False
) -> AnswerPage | None:
    try:
        return await waits.answer_page(uow, ref, for_update=for_update)
    except UnknownLink:
        return None


@router.get(
    "/a/{token}",
    response_class=HTMLResponse,
    summary="The agent's question and the answer form (never changes anything)",
    responses=html_responses(200, 404, 410),
)
async def show(
    token: str,
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    answer: str | None = None,
) -> HTMLResponse:
    ref = read_answer_token(settings.link_key, token)
    page = await _page(uow, ref) if ref is not None else None
    if page is None:
        return _not_found(request)
    if not page.verdict.open or page.wait is None:
        return _stale(page.ticket, page.verdict, posted=False)
    return _form(settings, page, token, 200, AnswerValues(choice_of(answer), ""), {})


@router.post(
    "/a/{token}",
    response_class=HTMLResponse,
    summary="Answer the agent (once per wait)",
    description=(
        "Form fields `answer` (`yes`|`no`, on a `user_validation` wait) and `comment`. Posts "
        "the requester's public comment (channel `page`) to the ticket; `yes` then resolves "
        "it, confirmed by the requester."
    ),
    responses=html_responses(200, 403, 404, 409, 410, 413, 422),
    openapi_extra=form_body(
        {
            "answer": {"type": "string", "enum": ["yes", "no"]},
            "comment": {"type": "string", "maxLength": MAX_ANSWER_LENGTH},
        },
        [],
    ),
)
async def submit(
    token: str, request: Request, uow: UnitOfWorkDep, settings: SettingsDep
) -> HTMLResponse:
    ref = read_answer_token(settings.link_key, token)
    if ref is None:
        return _not_found(request)
    posted = await ANSWER_FORM.read(request)
    page = await _page(uow, ref, for_update=True)
    if page is None:
        return _not_found(request)
    ticket = page.ticket
    locale = _locale(ticket)
    form = ANSWER_FORM.accept(request, settings, token, posted, locale, ticket)
    if isinstance(form, HTMLResponse):
        return form

    values = AnswerValues(choice_of(form.get("answer")), text(form.get("comment")))
    try:
        reply = await waits.answer_wait(
            uow, page, answer=values.answer, comment=values.comment, now=utc_now()
        )
    except WaitClosed as closed:
        return _stale(ticket, closed.verdict, posted=True)
    except InvalidAnswer as invalid:
        return _form(settings, page, token, 422, values, _errors(locale, invalid, values))
    thanks = {"resolved": reply.resolve, "agent": _agent(ticket)}
    return PAGES.render("answer_thanks.html.j2", 200, locale, ticket=ticket, **thanks)


def _errors(locale: str, invalid: InvalidAnswer, values: AnswerValues) -> dict[str, str]:
    """Field problems in the requester's words, in form order."""
    t = WORDS[locale]
    fields = {e.field for e in invalid.errors}
    errors: dict[str, str] = {}
    if "answer" in fields:
        errors["answer"] = t["error_answer"]
    if "comment" in fields:
        length = len(values.comment.strip())
        errors["comment"] = (
            t["error_answer_comment"].format(max=MAX_ANSWER_LENGTH, length=length)
            if length > MAX_ANSWER_LENGTH
            else t["error_answer_comment_required"]
        )
    return errors
