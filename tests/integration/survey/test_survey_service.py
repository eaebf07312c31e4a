"""The survey service on the real stack: invitations, the page, answers, expiry and CSAT.

The browser walk-through (Playwright, invitation read from the mail) is in tests/e2e.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from survey_support import (
    answer,
    form_token,
    path_of,
    resolved_with_invitation,
    survey_database_url,
)

from stopclock_shared.events.codec import encode
from stopclock_shared.events.envelope import new_envelope
from stopclock_shared.events.topics import (
    SLA_EVENTS,
    SURVEYS_EVENTS,
    TICKETS_COMMANDS,
    TICKETS_EVENTS,
)
from stopclock_shared.events.types import EventType
from stopclock_shared.outbox import Outbox
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe, send_raw
from stopclock_shared.testing.stack import Stack, unique
from stopclock_survey.forms import form_token as make_form_token
from stopclock_survey.models import outbox
from stopclock_survey.repository import unit_of_work
from stopclock_survey.use_cases import surveys as survey_use_cases


@pytest.fixture
async def survey_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("survey"), timeout=15) as client:
        yield client


def envelope(type_: str, subject: str, data: dict[str, Any]) -> bytes:
    return encode(
        new_envelope(
            type_, source="stopclock/tests", subject=subject, time=datetime.now(UTC), data=data
        )
    )


async def surveys_of(
    client: httpx.AsyncClient, headers: dict[str, str], ticket_id: str
) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/surveys", params={"ticket_id": ticket_id}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_resolved_ticket_gets_an_unguessable_single_survey_link(
    survey_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    ticket, invitation = await resolved_with_invitation(ticket_api, admin, stack)
    token = invitation["token"]
    assert len(token) >= 22  # base64url of at least 128 bits
    assert invitation["url"].endswith("/s/" + token)
    assert invitation["ticket"]["number"] == ticket["number"]
    assert datetime.fromisoformat(invitation["expires_at"]) > datetime.now(UTC)
    [survey] = await surveys_of(survey_api, admin, ticket["id"])
    assert survey["id"] == invitation["survey_id"]
    assert (survey["status"], survey["rating"], survey["answered_at"]) == ("sent", None, None)
    assert survey["requester_id"] == ticket["requester_id"]


async def test_the_page_shows_the_ticket_escaped_in_the_requesters_language(
    survey_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    person = await put_person(ticket_api, admin, locale="fr")
    ticket, invitation = await resolved_with_invitation(
        ticket_api, admin, stack, person, title="VPN <img src=x onerror=alert(1)>"
    )
    page = await survey_api.get(path_of(invitation["url"]) + "?rating=4")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="fr">' in html
    assert ticket["number"] in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html
    assert 'id="rating-4" name="rating" value="4" required checked' in html
    assert "Votre problème est-il résolu ?" in html


async def test_an_answer_is_stored_once_and_a_second_one_refused_politely(
    survey_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    ticket, invitation = await resolved_with_invitation(ticket_api, admin, stack)
    path = path_of(invitation["url"])
    async with KafkaProbe(stack.kafka, SURVEYS_EVENTS) as probe:
        first = await answer(survey_api, path, rating="5", resolved="yes", comment="Quick, thanks!")
        events = await probe.events_for(ticket["id"], type_=EventType.SURVEY_ANSWERED)
        again = await answer_directly(survey_api, path, rating="1", resolved="no")
        negative = await probe.wait_for(
            lambda m: m.key == ticket["id"].encode() and b"survey.negative" in (m.value or b""),
            timeout=1,
        )
    assert first.status_code == 200
    assert "Thank you" in first.text
    assert [e["data"]["rating"] for e in events] == [5]
    assert events[0]["data"]["ticket"]["id"] == ticket["id"]
    assert negative == []
    assert again.status_code == 409
    assert "already answered" in again.text
    assert again.headers["content-type"].startswith("text/html")
    [survey] = await surveys_of(survey_api, admin, ticket["id"])
    assert (survey["status"], survey["rating"], survey["resolved"]) == ("answered", 5, True)
    assert survey["comment"] == "Quick, thanks!"


async def answer_directly(client: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    """An answer sent with this survey's valid form token, without fetching the page first
    (the page of an answered or closed survey has no form to take it from)."""
    link_token = path.rsplit("/", 1)[1]
    body = {"form_token": make_form_token(Stack.from_env().jwt_secret, link_token), **fields}
    return await client.post(path, data=body)


async def test_not_resolved_is_negative_feedback_and_reopens_the_ticket(
    survey_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    ticket, invitation = await resolved_with_invitation(ticket_api, admin, stack)
    async with KafkaProbe(stack.kafka, SURVEYS_EVENTS) as probe:
        thanks = await answer(
            survey_api, path_of(invitation["url"]), rating="4", resolved="no", comment="Broke again"
        )
        [negative] = await probe.events_for(ticket["id"], type_=EventType.SURVEY_NEGATIVE)
    assert thanks.status_code == 200
    assert f"We have reopened {ticket['number']}" in thanks.text
    assert (negative["data"]["rating"], negative["data"]["resolved"]) == (4, False)
    for _ in range(60):
        status = (await ticket_api.get(f"/api/v1/tickets/{ticket['id']}", headers=admin)).json()
        if status["status"] == "in_progress":
            break
        await asyncio.sleep(0.25)
    assert status["status"] == "in_progress"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"resolved": "yes"}, "Choose a rating from 1 to 5."),
        ({"rating": "9", "resolved": "yes"}, "Choose a rating from 1 to 5."),
        ({"rating": "\u00b2", "resolved": "yes"}, "Choose a rating from 1 to 5."),  # superscript 2
        ({"rating": "\u0664", "resolved": "yes"}, "Choose a rating from 1 to 5."),  # Arabic-Indic 4
        ({"rating": "1" * 5000, "resolved": "yes"}, "Choose a rating from 1 to 5."),
        ({"rating": "-1", "resolved": "yes"}, "Choose a rating from 1 to 5."),
        ({"rating": "3"}, "Tell us whether your issue is resolved."),
        ({"rating": "3", "resolved": "yes", "comment": "x" * 2001}, "Keep the comment to 2000"),
    ],
)
async def test_a_bad_answer_brings_the_form_back_with_what_to_fix(
    survey_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
    fields: dict[str, str],
    message: str,
) -> None:
    ticket, invitation = await resolved_with_invitation(ticket_api, admin, stack)
    response = await answer(survey_api, path_of(invitation["url"]), **fields)
    assert response.status_code == 422
    assert message in response.text
    assert 'role="alert"' in response.text
    [survey] = await surveys_of(survey_api, admin, ticket["id"])
    assert survey["status"] == "sent"


async def test_a_form_not_sent_from_our_page_is_refused(
    survey_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    ticket, invitation = await resolved_with_invitation(ticket_api, admin, stack)
    path = path_of(invitation["url"])
    token = form_token((await survey_api.get(path)).text)
    answer_ = {"rating": "1", "resolved": "no"}
    no_token = await survey_api.post(path, data=answer_)
    cross_site = await survey_api.post(
        path, data={**answer_, "form_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert (no_token.status_code, cross_site.status_code) == (403, 403)
    assert "send the form from there" in cross_site.text
    [survey] = await surveys_of(survey_api, admin, ticket["id"])
    assert survey["status"] == "sent"


async def test_an_unknown_link_gets_a_polite_page(survey_api: httpx.AsyncClient) -> None:
    page = await survey_api.get("/s/" + "A" * 43, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    post = await survey_api.post("/s/nope", data={"rating": "5", "resolved": "yes"})
    assert (page.status_code, post.status_code) == (404, 404)
    assert "Nous ne trouvons pas cette enquête" in page.text
    assert "Traceback" not in page.text + post.text
    assert post.headers["content-type"].startswith("text/html")


async def test_an_expired_survey_takes_no_answer_and_is_marked_expired(
    survey_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    ticket, invitation = await resolved_with_invitation(ticket_api, admin, stack)
    swept, swept_invitation = await resolved_with_invitation(ticket_api, admin, stack)
    url = survey_database_url(stack)
    db = await asyncpg.connect(url)
    try:
        await db.execute(
            "UPDATE surveys SET expires_at = now() - interval '1 minute'"
            " WHERE id = ANY($1::uuid[])",
            [uuid.UUID(invitation["survey_id"]), uuid.UUID(swept_invitation["survey_id"])],
        )
    finally:
        await db.close()
    page = await survey_api.get(path_of(invitation["url"]))
    assert page.status_code == 410
    assert "This survey has closed" in page.text
    [survey] = await surveys_of(survey_api, admin, ticket["id"])
    assert survey["status"] == "expired"

    # The housekeeping sweep marks the others without anyone opening them.
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            uow = unit_of_work(session, Outbox(outbox, "survey"))
            count = await survey_use_cases.expire_due(uow, datetime.now(UTC))
    finally:
        await engine.dispose()
    [swept_survey] = await surveys_of(survey_api, admin, swept["id"])
    assert swept_survey["status"] == "expired"
    assert count >= 0  # other expired surveys of the stack may be swept too
    late = await answer_directly(
        survey_api, path_of(swept_invitation["url"]), rating="5", resolved="yes"
    )
    assert late.status_code == 410


async def test_a_ticket_resolved_for_lack_of_response_gets_no_survey(
    survey_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    await move(ticket_api, admin, ticket["id"], "in_progress")
    await move(ticket_api, admin, ticket["id"], "waiting_on_user", reason="info_requested")
    command = {"ticket_id": ticket["id"], "resolution": "No answer.", "reason": "no_response"}
    async with KafkaProbe(stack.kafka, TICKETS_EVENTS) as probe:
        await send_raw(
            stack.kafka,
            TICKETS_COMMANDS,
            ticket["id"],
            envelope(EventType.COMMAND_RESOLVE, ticket["id"], command),
        )
        resolved = await probe.events_for(ticket["id"], type_=EventType.TICKET_STATUS_CHANGED)
    assert resolved[0]["data"]["to_status"] == "resolved"
    # The survey consumer reads the same partition in order: give it time to act (it must not).
    await asyncio.sleep(3)
    assert await surveys_of(survey_api, admin, ticket["id"]) == []


async def test_stats_give_csat_by_service_and_after_breach(
    survey_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    service = unique("csat-svc")
    since = datetime.now(UTC).isoformat()
    breached, breached_invitation = await resolved_with_invitation(
        ticket_api, admin, stack, service=service
    )
    await resolved_with_invitation(ticket_api, admin, stack, service=service)
    breach = {
        "ticket_id": breached["id"],
        "ticket_number": breached["number"],
        "policy": "standard",
        "policy_version": 1,
        "target": "resolution",
        "at": since,
        "state": "breached",
        "due_at": since,
        "started_at": since,
        "breached_at": since,
        "elapsed_seconds": 60,
        "ticket": breached_invitation["ticket"],
    }
    await send_raw(
        stack.kafka,
        SLA_EVENTS,
        breached["id"],
        envelope(EventType.SLA_BREACHED, breached["id"], breach),
    )
    await answer(survey_api, path_of(breached_invitation["url"]), rating="5", resolved="yes")
    for _ in range(60):
        response = await survey_api.get(
            "/api/v1/surveys/stats", params={"service": service, "from": since}, headers=admin
        )
        figures = response.json()
        if figures["after_breach"]["answered"] == 1:
            break
        await asyncio.sleep(0.25)
    assert (figures["sent"], figures["answered"], figures["response_rate"]) == (2, 1, 0.5)
    assert figures["csat"] == 1.0
    assert figures["by_service"] == {service: {"sent": 2, "answered": 1, "csat": 1.0}}
    assert figures["after_breach"] == {"answered": 1, "csat": 1.0}
    assert figures["without_breach"] == {"answered": 0, "csat": None}
    bad_window = await survey_api.get(
        "/api/v1/surveys/stats", params={"from": since, "to": since}, headers=admin
    )
    assert bad_window.status_code == 422


async def test_requesters_see_their_own_surveys_only(
    survey_api: httpx.AsyncClient,
    ticket_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    ticket, _ = await resolved_with_invitation(ticket_api, admin, stack)
    own = stack.auth(ticket["requester_id"], "requester")
    mine = await survey_api.get("/api/v1/surveys", headers=own)
    others = await survey_api.get(
        "/api/v1/surveys", params={"requester_id": "someone-else"}, headers=own
    )
    stats = await survey_api.get("/api/v1/surveys/stats", headers=own)
    assert [s["ticket_id"] for s in mine.json()["items"]] == [ticket["id"]]
    assert (others.status_code, stats.status_code) == (403, 403)
