"""The answer page: ``GET /a/{token}`` shows the agent's question and a form, ``POST`` answers.

The token (``stopclock_shared.links``) names the ticket and the wait it was made for, and
is verified without a lookup: a forged one gets the 404 page. ``GET`` never changes
anything (mail scanners open every link; ``?answer=yes|no`` only pre-selects). A link
whose wait is over gets a page saying what happened (410); a second answer to the same
wait, a page saying it was answered (409). The machinery is ``pages.py``, shared with the
survey page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import RowMapping

from stopclock_shared.db import SessionDep, utc_now
from stopclock_shared.links import AnswerRef, read_answer_token

from . import answers
from . import repository as repo
from .domain.answers import MAX_ANSWER_LENGTH, choice_of, take_answer
from .domain.errors import InvalidAnswer
from .domain.survey import clean_comment
from .domain.waits import PageKind, Verdict, verdict
from .page_text import WORDS, local_date, locale_from_header, locale_of
from .pages import (
    PAGES,
    form_body,
    from_our_page,
    guard_token,
    html_responses,
    read_form,
    settings_of,
    text,
)

router = APIRouter(tags=["answer page"])
# A yes/no and a 5000-character answer, even percent-encoded multi-byte text.
MAX_FORM_BYTES = 65_536


@dataclass(frozen=True)
class AnswerValues:
    """What the requester entered, shown again when the form comes back with errors."""

    answer: str | None  # "yes" | "no"
    comment: str


def _scope(token: str) -> str:
    # The form token of an answer page never passes on a survey page, nor the reverse.
    return f"answer:{token}"


def _locale(ticket: Mapping[str, Any]) -> str:
    return locale_of(ticket["locale"])


def _date(ticket: Mapping[str, Any], moment: datetime | None) -> str:
    if moment is None:
        return ""
    return local_date(moment, _locale(ticket), ticket["timezone"])


def _stale(ticket: Mapping[str, Any], found: Verdict, status: int) -> HTMLResponse:
    """The polite page of a link that takes no answer (any more)."""
    return PAGES.notice(
        f"answer_{found.kind.value}",
        status,
        _locale(ticket),
        ticket,
        _date(ticket, found.at),
    )


def _not_found(request: Request) -> HTMLResponse:
    locale = locale_from_header(request.headers.get("accept-language"))
    return PAGES.notice("answer_not_found", 404, locale)


def _form(
    request: Request,
    ticket: Mapping[str, Any],
    wait: Mapping[str, Any],
    token: str,
    status: int,
    values: AnswerValues,
    errors: dict[str, str],
) -> HTMLResponse:
    locale = _locale(ticket)
    return PAGES.render(
        "answer_form.html.j2",
        status,
        locale,
        ticket=ticket,
        reason=wait["reason"] if wait["reason"] in _REASONS else "user_response",
        question=wait["question"],
        asked=_date(ticket, wait["since"]),
        agent=ticket["assignee_name"] or WORDS[locale]["answer_agent"],
        action=f"/a/{token}",
        form_token=guard_token(request, _scope(token)),
        values=values,
        errors=errors,
        max_comment=MAX_ANSWER_LENGTH,
    )


_REASONS = frozenset({"user_validation", "info_requested", "user_response"})


async def _load(
    session: SessionDep, ref: AnswerRef, *, for_update: bool = False
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """The ticket's row and the row of the link's wait, as of one moment.

    To answer, the wait's row is locked first: the replica cannot end that wait (nor
    commit the ticket's change that ends it) before the answer is recorded.
    """
    if not for_update:
        return await repo.answer_page_rows(session, ref.ticket_id, ref.waiting_since)
    wait = await repo.wait_of(session, ref.ticket_id, ref.waiting_since, for_update=True)
    ticket = await repo.answer_ticket(session, ref.ticket_id)
    return _plain(ticket), _plain(wait)


def _plain(row: RowMapping | None) -> dict[str, Any] | None:
    return {str(k): v for k, v in row.items()} if row is not None else None


@router.get(
    "/a/{token}",
    response_class=HTMLResponse,
    summary="The agent's question and the answer form (never changes anything)",
    responses=html_responses(200, 404, 410),
)
async def show(
    token: str, request: Request, session: SessionDep, answer: str | None = None
) -> HTMLResponse:
    ref = read_answer_token(settings_of(request).link_key, token)
    if ref is None:
        return _not_found(request)
    ticket, wait = await _load(session, ref)
    if ticket is None:
        return _not_found(request)
    found = verdict(ref.waiting_since, answers.ticket_now(ticket), answers.wait_from(wait))
    if found.kind is PageKind.PENDING:
        return _stale(ticket, found, 404)
    if not found.open or wait is None:
        return _stale(ticket, found, 410)
    return _form(request, ticket, wait, token, 200, AnswerValues(choice_of(answer), ""), {})


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
async def submit(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    ref = read_answer_token(settings_of(request).link_key, token)
    if ref is None:
        return _not_found(request)
    form = await read_form(request, MAX_FORM_BYTES)
    ticket, wait = await _load(session, ref, for_update=True)
    if ticket is None:
        return _not_found(request)
    locale = _locale(ticket)
    if form is None:
        return PAGES.notice("too_large", 413, locale, ticket)
    if not from_our_page(request, _scope(token), text(form.get("form_token"))):
        return PAGES.notice("answer_refused", 403, locale, ticket)
    found = verdict(ref.waiting_since, answers.ticket_now(ticket), answers.wait_from(wait))
    if found.kind is PageKind.PENDING:
        return _stale(ticket, found, 404)
    if found.answered_here:
        return _stale(ticket, found, 409)
    if not found.open or wait is None:
        return _stale(ticket, found, 410)

    values = AnswerValues(choice_of(form.get("answer")), text(form.get("comment")))
    try:
        reply = take_answer(wait["reason"], values.answer, values.comment)
    except InvalidAnswer as exc:
        errors = _errors(locale, {e.field for e in exc.errors}, values.comment)
        return _form(request, ticket, wait, token, 422, values, errors)
    await answers.answer_wait(
        session,
        request.app.state.runtime.outbox,
        ticket,
        wait,
        reply,
        answer=values.answer if wait["reason"] == "user_validation" else None,
        comment=clean_comment(values.comment),
        now=utc_now(),
    )
    await session.commit()
    return PAGES.render(
        "answer_thanks.html.j2",
        200,
        locale,
        ticket=ticket,
        resolved=reply.resolve,
        agent=ticket["assignee_name"] or WORDS[locale]["answer_agent"],
    )


def _errors(locale: str, fields: set[str], comment: str) -> dict[str, str]:
    """Field problems in the requester's words, in form order."""
    t = WORDS[locale]
    errors: dict[str, str] = {}
    if "answer" in fields:
        errors["answer"] = t["error_answer"]
    if "comment" in fields:
        length = len(comment.strip())
        errors["comment"] = (
            t["error_answer_comment"].format(max=MAX_ANSWER_LENGTH, length=length)
            if length > MAX_ANSWER_LENGTH
            else t["error_answer_comment_required"]
        )
    return errors
