"""The survey use cases on the fake unit of work: a survey per resolution, its one answer
and what it announces, expiry, listing and CSAT figures."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from stopclock_shared.auth import Principal
from stopclock_shared.errors import Forbidden
from stopclock_shared.events.envelope import Envelope, new_envelope
from stopclock_shared.events.surveys import SurveyAnswered, SurveyRequested
from stopclock_shared.events.tickets import TicketStatusChanged
from stopclock_shared.events.topics import SURVEYS_EVENTS, TICKETS_COMMANDS
from stopclock_shared.events.types import EventType
from stopclock_shared.testing.fakes import FakeUnitOfWork
from stopclock_survey import metrics
from stopclock_survey.domain.errors import (
    AlreadyAnswered,
    InvalidAnswer,
    SurveyExpired,
    UnknownLink,
)
from stopclock_survey.domain.survey import SurveyStatus
from stopclock_survey.domain.tokens import token_digest
from stopclock_survey.repository import SurveyQuery, SurveyRecord
from stopclock_survey.use_cases import surveys

from .fakes import RESOLVED_AT, FakeSurveyRepository, fake_uow, snapshot

FORTNIGHT = timedelta(days=14)
SOON = RESOLVED_AT + timedelta(minutes=1)
BASE = "https://desk.example.com/survey/"


def resolution(**fields: Any) -> tuple[TicketStatusChanged, Envelope]:
    """A ``ticket.status_changed`` to resolved, typed and as its envelope."""
    data = {
        "ticket": snapshot(),
        "from_status": "in_progress",
        "to_status": "resolved",
        "reason": None,
        **fields,
    }
    envelope = new_envelope(
        EventType.TICKET_STATUS_CHANGED,
        source="stopclock/ticket",
        subject=data["ticket"]["id"],
        time=RESOLVED_AT,
        data=data,
    )
    return TicketStatusChanged.model_validate(data), envelope


async def requested(
    uow: FakeUnitOfWork[FakeSurveyRepository], **fields: Any
) -> tuple[SurveyRecord, str]:
    """A survey sent for a fresh resolution: its record and its link's token."""
    event, envelope = resolution(**fields)
    survey = await surveys.request_survey(
        uow, event, envelope, public_base=BASE, valid_for=FORTNIGHT, now=SOON
    )
    assert survey is not None
    sent = uow.envelopes(EventType.SURVEY_REQUESTED)[-1]
    token = SurveyRequested.model_validate(sent.data).token
    return uow.repo.surveys[survey.id], token


async def test_a_resolution_sends_a_survey_linked_by_an_unguessable_token() -> None:
    uow = fake_uow()
    record, token = await requested(uow)
    [(topic, key, sent)] = uow.emitted
    data = SurveyRequested.model_validate(sent.data)
    assert (topic, key, sent.type) == (
        SURVEYS_EVENTS,
        record.survey.ticket_id,
        EventType.SURVEY_REQUESTED,
    )
    assert data.url == f"https://desk.example.com/survey/s/{token}"
    assert len(token) >= 43
    assert uow.repo.digests == {token_digest(token): record.survey.id}  # never the token
    assert (record.survey.sent_at, record.survey.expires_at) == (
        RESOLVED_AT,
        RESOLVED_AT + FORTNIGHT,
    )
    assert (record.service, record.survey.requester_id) == ("vpn", "alice")


async def test_the_survey_carries_the_ticket_exactly_as_the_ticket_service_sent_it() -> None:
    uow = fake_uow()
    event, envelope = resolution()
    await surveys.request_survey(
        uow, event, envelope, public_base=BASE, valid_for=FORTNIGHT, now=SOON
    )
    [sent] = uow.envelopes(EventType.SURVEY_REQUESTED)
    assert sent.data["ticket"] == envelope.data["ticket"]
    assert sent.data["expires_at"] == (RESOLVED_AT + FORTNIGHT).isoformat()
    assert sent.causationid == envelope.id


async def test_a_survey_sent_is_counted_only_once_committed() -> None:
    uow = fake_uow()
    before = metrics.SENT._value.get()
    await requested(uow)
    assert metrics.SENT._value.get() == before
    uow.commit()
    assert metrics.SENT._value.get() == before + 1


@pytest.mark.parametrize(
    "fields",
    [
        {"resolution_reason": "no_response"},
        {"ticket": snapshot(resolution_reason="no_response")},
        {"to_status": "in_progress", "from_status": "waiting_on_user"},
        {"to_status": "closed", "from_status": "resolved"},
    ],
)
async def test_no_survey_for_lack_of_response_nor_for_other_changes(
    fields: dict[str, Any],
) -> None:
    uow = fake_uow()
    event, envelope = resolution(**fields)
    sent = await surveys.request_survey(
        uow, event, envelope, public_base=BASE, valid_for=FORTNIGHT, now=SOON
    )
    assert sent is None
    assert (uow.emitted, uow.repo.surveys) == ([], {})


async def test_a_resolution_replayed_after_its_survey_would_have_expired_gets_none() -> None:
    uow = fake_uow()
    event, envelope = resolution()
    late = RESOLVED_AT + FORTNIGHT
    sent = await surveys.request_survey(
        uow, event, envelope, public_base=BASE, valid_for=FORTNIGHT, now=late
    )
    assert sent is None
    assert uow.emitted == []


async def test_a_link_finds_its_survey_and_a_forged_one_none() -> None:
    uow = fake_uow()
    record, token = await requested(uow)
    assert await surveys.find_survey(uow, token, for_update=True) == record
    assert uow.repo.locked == [record.survey.id]
    with pytest.raises(UnknownLink):
        await surveys.find_survey(uow, token + "x")


async def test_a_good_answer_is_stored_announced_and_counted_after_commit() -> None:
    uow = fake_uow()
    record, _ = await requested(uow)
    answered = metrics.ANSWERED.labels("true", "false")
    before = answered._value.get()
    result = await surveys.answer_survey(
        uow, record, rating=5, resolved=True, comment=" Quick! ", now=SOON
    )
    stored = uow.repo.surveys[record.survey.id].survey
    assert (stored.status, stored.rating, stored.comment) == (SurveyStatus.ANSWERED, 5, "Quick!")
    assert uow.types() == [EventType.SURVEY_REQUESTED, EventType.SURVEY_ANSWERED]
    [announced] = uow.envelopes(EventType.SURVEY_ANSWERED)
    data = SurveyAnswered.model_validate(announced.data)
    assert (data.rating, data.resolved, data.comment) == (5, True, "Quick!")
    assert announced.data["ticket"] == record.ticket
    assert (result.negative, result.reopened, result.after_breach) == (False, False, False)
    assert answered._value.get() == before
    uow.commit()
    assert answered._value.get() == before + 1


async def test_not_resolved_is_negative_feedback_and_asks_to_reopen_the_ticket() -> None:
    uow = fake_uow()
    record, _ = await requested(uow)
    await uow.repo.mark_breached(uuid.UUID(record.survey.ticket_id), RESOLVED_AT)
    negative_before = metrics.NEGATIVE._value.get()
    result = await surveys.answer_survey(
        uow, record, rating=4, resolved=False, comment="Still down", now=SOON
    )
    assert (result.negative, result.reopened, result.after_breach) == (True, True, True)
    assert uow.types(SURVEYS_EVENTS)[1:] == [EventType.SURVEY_ANSWERED, EventType.SURVEY_NEGATIVE]
    [(_, key, reopen)] = [e for e in uow.emitted if e[0] == TICKETS_COMMANDS]
    assert (key, reopen.type) == (record.survey.ticket_id, EventType.COMMAND_REOPEN)
    assert reopen.data == {"ticket_id": record.survey.ticket_id, "reason": "survey_not_resolved"}
    uow.commit()
    assert metrics.NEGATIVE._value.get() == negative_before + 1


async def test_a_second_answer_is_refused_and_nothing_more_is_sent() -> None:
    uow = fake_uow()
    record, _ = await requested(uow)
    await surveys.answer_survey(uow, record, rating=3, resolved=True, comment="", now=SOON)
    again = uow.repo.surveys[record.survey.id]
    sent = list(uow.emitted)
    with pytest.raises(AlreadyAnswered):
        await surveys.ensure_open(uow, again, SOON)
    with pytest.raises(AlreadyAnswered):
        await surveys.answer_survey(uow, again, rating=1, resolved=False, comment="", now=SOON)
    assert uow.emitted == sent


async def test_an_answer_with_field_problems_names_them_all_and_stores_nothing() -> None:
    uow = fake_uow()
    record, _ = await requested(uow)
    with pytest.raises(InvalidAnswer) as refused:
        await surveys.answer_survey(
            uow, record, rating=None, resolved=None, comment="x" * 2001, now=SOON
        )
    assert [e.field for e in refused.value.errors] == ["rating", "resolved", "comment"]
    assert uow.repo.surveys[record.survey.id] == record
    assert uow.types() == [EventType.SURVEY_REQUESTED]


async def test_a_survey_found_past_its_expiry_is_marked_expired_and_counted() -> None:
    uow = fake_uow()
    record, _ = await requested(uow)
    expired_before = metrics.EXPIRED._value.get()
    late = record.survey.expires_at
    with pytest.raises(SurveyExpired):
        await surveys.ensure_open(uow, record, late)
    assert uow.repo.surveys[record.survey.id].survey.status is SurveyStatus.EXPIRED
    marked = uow.repo.surveys[record.survey.id]
    with pytest.raises(SurveyExpired):  # already marked: not counted twice
        await surveys.answer_survey(uow, marked, rating=5, resolved=True, comment="", now=late)
    uow.commit()
    assert metrics.EXPIRED._value.get() == expired_before + 1


async def test_an_answer_after_the_expiry_time_marks_the_survey_expired() -> None:
    uow = fake_uow()
    record, _ = await requested(uow)
    with pytest.raises(SurveyExpired):
        await surveys.answer_survey(
            uow, record, rating=5, resolved=True, comment="", now=record.survey.expires_at
        )
    assert uow.repo.surveys[record.survey.id].survey.status is SurveyStatus.EXPIRED


async def test_an_open_survey_passes() -> None:
    uow = fake_uow()
    record, _ = await requested(uow)
    await surveys.ensure_open(uow, record, SOON)
    assert uow.repo.surveys[record.survey.id].survey.status is SurveyStatus.SENT


async def test_the_sweep_expires_the_unanswered_surveys_past_their_expiry_only() -> None:
    uow = fake_uow()
    due, _ = await requested(uow)
    answered, _ = await requested(uow)
    await surveys.answer_survey(uow, answered, rating=5, resolved=True, comment="", now=SOON)
    before = metrics.EXPIRED._value.get()
    assert await surveys.expire_due(uow, due.survey.expires_at - timedelta(seconds=1)) == 0
    assert await surveys.expire_due(uow, due.survey.expires_at) == 1
    statuses = {r.survey.id: r.survey.status for r in uow.repo.surveys.values()}
    assert statuses == {
        due.survey.id: SurveyStatus.EXPIRED,
        answered.survey.id: SurveyStatus.ANSWERED,
    }
    uow.commit()
    assert metrics.EXPIRED._value.get() == before + 1


async def test_a_breach_is_remembered_once() -> None:
    uow = fake_uow()
    ticket_id = uuid.uuid4()
    await surveys.sla_breached(uow, str(ticket_id), RESOLVED_AT)
    await surveys.sla_breached(uow, str(ticket_id), SOON)
    assert uow.repo.breached == {ticket_id: RESOLVED_AT}


def listing(
    ticket_id: uuid.UUID | None = None,
    requester_id: str | None = None,
    limit: int = 10,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> SurveyQuery:
    return SurveyQuery(ticket_id, requester_id, limit, after)


STAFF = Principal("desk-agent", frozenset({"agent"}))
ALICE = Principal("alice", frozenset({"requester"}))


async def test_requesters_list_their_own_surveys_and_staff_anyones() -> None:
    uow = fake_uow()
    mine, _ = await requested(uow)
    other, _ = await requested(
        uow, ticket=snapshot(requester={"id": "bob", "name": "B", "email": "b@x"})
    )
    own = await surveys.list_surveys(uow, ALICE, listing())
    everyone = await surveys.list_surveys(uow, STAFF, listing())
    assert [r.survey.id for r in own] == [mine.survey.id]
    assert {r.survey.id for r in everyone} == {mine.survey.id, other.survey.id}
    with pytest.raises(Forbidden, match="Requesters may only list their own surveys"):
        await surveys.list_surveys(uow, ALICE, listing(requester_id="bob"))


async def test_a_list_is_filtered_by_ticket_and_continues_after_its_cursor() -> None:
    uow = fake_uow()
    first, _ = await requested(uow)
    second, _ = await requested(uow)
    ticket_id = uuid.UUID(first.survey.ticket_id)
    by_ticket = await surveys.list_surveys(uow, STAFF, listing(ticket_id=ticket_id))
    assert [r.survey.id for r in by_ticket] == [first.survey.id]
    page = await surveys.list_surveys(uow, STAFF, listing(limit=1))
    assert len(page) == 2  # one more than asked: there is a next page
    cursor = (page[0].survey.sent_at, uuid.UUID(page[0].survey.id))
    rest = await surveys.list_surveys(uow, STAFF, listing(limit=1, after=cursor))
    assert [r.survey.id for r in rest] == [page[1].survey.id]
    assert {second.survey.id} <= {r.survey.id for r in page}


async def test_stats_count_csat_by_service_and_after_breach() -> None:
    uow = fake_uow()
    happy, _ = await requested(uow)
    unhappy, _ = await requested(uow, ticket=snapshot(service="mail"))
    await requested(uow)
    await uow.repo.mark_breached(uuid.UUID(unhappy.survey.ticket_id), RESOLVED_AT)
    await surveys.answer_survey(uow, happy, rating=5, resolved=True, comment="", now=SOON)
    await surveys.answer_survey(uow, unhappy, rating=2, resolved=True, comment="", now=SOON)
    figures = await surveys.csat_stats(uow, None, None, None)
    assert (figures.sent, figures.answered, figures.csat) == (3, 2, 0.5)
    assert (figures.after_breach.answered, figures.after_breach.csat) == (1, 0.0)
    assert figures.by_service["vpn"].sent == 2
    only_mail = await surveys.csat_stats(uow, None, None, "mail")
    assert only_mail.sent == 1
    none_yet = await surveys.csat_stats(uow, RESOLVED_AT + timedelta(days=1), None, None)
    assert (none_yet.sent, none_yet.response_rate) == (0, None)


def test_the_link_of_the_mail_is_the_public_base_with_the_token() -> None:
    assert surveys.survey_url("https://x.example/", "abc") == "https://x.example/s/abc"
    assert surveys.survey_url("http://127.0.0.1:8004", "abc") == "http://127.0.0.1:8004/s/abc"
