"""The answer pages (``/a/{token}``) on the real stack: a ticket waits on its requester, the
requester opens the link from the mail and answers; the ticket service acts on the answer.

The browser walk-through (Playwright) is tests/e2e/test_e2e_answer_page.py.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import orjson
import pytest
from answer_support import (
    comments_of,
    open_page,
    send_answer,
    stack_link_key,
    ticket_of,
    token_for,
    until_status,
    waiting_ticket,
)
from survey_support import form_token

from stopclock_shared.events.topics import TICKETS_COMMANDS
from stopclock_shared.events.types import EventType
from stopclock_shared.links import answer_token
from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.kafka_probe import KafkaProbe
from stopclock_shared.testing.stack import Stack


@pytest.fixture
async def pages(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("survey"), timeout=15) as client:
        yield client


def commands_for(probe: KafkaProbe, ticket_id: str) -> list[dict[str, object]]:
    """The envelopes on tickets.commands for the ticket, seen so far."""
    found = []
    for message in probe.seen:
        if message.key == ticket_id.encode():
            found.append(orjson.loads(message.value or b"{}"))
    return found


async def test_the_page_shows_the_question_verbatim_and_a_get_changes_nothing(
    pages: httpx.AsyncClient, ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    question = "Does it hold now?\nIf not: what does <the client> say?"
    person = await put_person(ticket_api, admin, locale="fr")
    _, ticket = await waiting_ticket(
        ticket_api, admin, note=question, person=person, title="VPN <script>x</script>"
    )
    path = f"/a/{token_for(stack, ticket)}"
    async with KafkaProbe(stack.kafka, TICKETS_COMMANDS) as probe:
        page = await open_page(pages, path + "?answer=yes")
        again = await pages.get(path + "?answer=no")
        await probe.wait_for(lambda m: m.key == ticket["id"].encode(), timeout=2)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert '<html lang="fr">' in html
    assert ticket["number"] in html
    assert "Does it hold now?\nIf not: what does &lt;the client&gt; say?" in html
    assert "VPN &lt;script&gt;x&lt;/script&gt;" in html
    assert "<script" not in html
    assert re.search(r'id="answer-yes"[^>]*checked', html)
    assert not re.search(r'id="answer-no"[^>]*checked', html)
    assert "Oui, cela fonctionne" in html
    assert again.status_code == 200
    assert re.search(r'id="answer-no"[^>]*checked', again.text)
    # Mail scanners open every link: nothing was asked of the ticket service.
    assert commands_for(probe, ticket["id"]) == []
    now = await ticket_of(ticket_api, admin, ticket["id"])
    assert (now["status"], now["version"]) == ("waiting_on_user", ticket["version"])
    assert await comments_of(ticket_api, admin, ticket["id"]) == []


async def test_yes_resolves_the_ticket_confirmed_by_the_requester_with_their_comment(
    pages: httpx.AsyncClient, ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person, ticket = await waiting_ticket(ticket_api, admin)
    path = f"/a/{token_for(stack, ticket)}"
    async with KafkaProbe(stack.kafka, TICKETS_COMMANDS) as probe:
        thanks = await send_answer(pages, path, answer="yes", comment="Stable since this morning.")
        await probe.wait_for(lambda m: m.key == ticket["id"].encode(), count=2)
    assert thanks.status_code == 200, thanks.text
    assert "your ticket is resolved" in thanks.text
    commands = commands_for(probe, ticket["id"])
    assert [c["type"] for c in commands] == [EventType.COMMAND_COMMENT, EventType.COMMAND_RESOLVE]
    assert commands[1]["data"] == {
        "ticket_id": ticket["id"],
        "resolution": "Confirmed by the requester: it works.",
        "reason": "confirmed_by_requester",
    }

    resolved = await until_status(ticket_api, admin, ticket["id"], "resolved")
    assert resolved["status"] == "resolved"
    assert resolved["resolution"] == "Confirmed by the requester: it works."
    [comment] = await comments_of(ticket_api, admin, ticket["id"])
    assert comment["body"] == "Yes, it works.\n\nStable since this morning."
    assert (comment["visibility"], comment["channel"]) == ("public", "page")
    assert comment["author_id"] == person["id"]


async def test_no_puts_the_ticket_back_in_progress_through_the_requesters_comment(
    pages: httpx.AsyncClient, ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person, ticket = await waiting_ticket(ticket_api, admin)
    path = f"/a/{token_for(stack, ticket)}"
    thanks = await send_answer(pages, path, answer="no", comment="It dropped again at 10:02.")
    assert thanks.status_code == 200, thanks.text
    assert "runs again from now" in thanks.text
    back = await until_status(ticket_api, admin, ticket["id"], "in_progress")
    assert back["status"] == "in_progress"
    assert back["waiting_since"] is None
    [comment] = await comments_of(ticket_api, admin, ticket["id"])
    assert comment["body"] == "No, it still fails.\n\nIt dropped again at 10:02."
    assert (comment["author_id"], comment["channel"]) == (person["id"], "page")
    # The answer ended that wait: its link now says so, and takes no second answer.
    page = await pages.get(path)
    assert page.status_code == 410
    assert "You have already answered" in page.text


async def test_an_information_request_takes_a_written_answer(
    pages: httpx.AsyncClient, ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    _, ticket = await waiting_ticket(
        ticket_api, admin, reason="info_requested", note="Which laptop model is it?"
    )
    path = f"/a/{token_for(stack, ticket)}"
    page = await open_page(pages, path)
    assert page.status_code == 200
    assert 'name="answer"' not in page.text  # no yes/no outside a validation
    assert "We need information from you" in page.text

    empty = await send_answer(pages, path, comment="   ", answer="yes")
    assert empty.status_code == 422
    assert "Write your answer." in empty.text
    assert 'role="alert"' in empty.text

    thanks = await send_answer(pages, path, comment="A ThinkPad T14 <gen 3>.")
    assert thanks.status_code == 200, thanks.text
    back = await until_status(ticket_api, admin, ticket["id"], "in_progress")
    assert back["status"] == "in_progress"
    [comment] = await comments_of(ticket_api, admin, ticket["id"])
    assert comment["body"] == "A ThinkPad T14 <gen 3>."


async def test_a_second_answer_to_the_same_wait_is_refused_politely_and_never_sent(
    pages: httpx.AsyncClient, ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    _, ticket = await waiting_ticket(ticket_api, admin)
    path = f"/a/{token_for(stack, ticket)}"
    # Two tabs of the same mail: both forms were loaded before either was sent.
    first_form = await open_page(pages, path)
    second_form = await pages.get(path)
    origin = {"Origin": str(pages.base_url).rstrip("/")}
    async with KafkaProbe(stack.kafka, TICKETS_COMMANDS) as probe:
        first, second = await asyncio.gather(
            pages.post(
                path,
                data={"form_token": form_token(first_form.text), "answer": "yes"},
                headers=origin,
            ),
            pages.post(
                path,
                data={"form_token": form_token(second_form.text), "answer": "no"},
                headers=origin,
            ),
        )
        await probe.wait_for(lambda m: m.key == ticket["id"].encode(), count=3, timeout=3)
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 409], (first.text, second.text)
    refused = first if first.status_code == 409 else second
    assert "already" in refused.text
    # One answer: its comment, and the resolution only if that answer was "yes".
    types = [c["type"] for c in commands_for(probe, ticket["id"])]
    assert types[0] == EventType.COMMAND_COMMENT
    assert types.count(EventType.COMMAND_COMMENT) == 1
    assert len(types) == (2 if first.status_code == 200 else 1)


async def test_a_link_whose_wait_is_over_says_what_happened(
    pages: httpx.AsyncClient, ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    _, ticket = await waiting_ticket(ticket_api, admin)
    first_link = f"/a/{token_for(stack, ticket)}"
    assert (await open_page(pages, first_link)).status_code == 200
    await move(ticket_api, admin, ticket["id"], "in_progress")
    for _ in range(50):
        resumed = await pages.get(first_link)
        if resumed.status_code != 200:
            break
        await asyncio.sleep(0.2)
    assert resumed.status_code == 410
    assert "The service desk picked up your ticket again" in resumed.text

    # A new question: the old link still tells its own story, not the new wait's.
    again = await move(
        ticket_api, admin, ticket["id"], "waiting_on_user", reason="info_requested", note="Logs?"
    )
    second_link = f"/a/{token_for(stack, again)}"
    assert (await open_page(pages, second_link)).status_code == 200
    assert (await pages.get(first_link)).status_code == 410
    # A link made for a wait this ticket never had: a newer question is waiting.
    never = answer_token(
        stack_link_key(stack),
        uuid.UUID(ticket["id"]),
        datetime.fromisoformat(again["waiting_since"]) - timedelta(seconds=1),
    )
    superseded = await pages.get(f"/a/{never}")
    assert superseded.status_code == 410
    assert "This link is for an earlier question" in superseded.text
    posted = await pages.post(
        f"/a/{never}",
        data={"form_token": form_token((await pages.get(second_link)).text), "answer": "yes"},
    )
    assert posted.status_code in (403, 410)

    await move(ticket_api, admin, ticket["id"], "cancelled")
    for _ in range(50):
        cancelled = await pages.get(second_link)
        if cancelled.status_code != 200:
            break
        await asyncio.sleep(0.2)
    assert cancelled.status_code == 410
    assert "This ticket was cancelled on" in cancelled.text


async def test_a_forged_or_damaged_link_gets_the_not_found_page(
    pages: httpx.AsyncClient, ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    _, ticket = await waiting_ticket(ticket_api, admin)
    token = token_for(stack, ticket)
    assert (await open_page(pages, f"/a/{token}")).status_code == 200
    forged = answer_token(
        b"k" * 32, uuid.UUID(ticket["id"]), datetime.fromisoformat(ticket["waiting_since"])
    )
    middle = len(token) // 2
    damaged = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    for bad in (forged, damaged, token[:20], token + "A", "x" * 500, "not-a-token"):
        page = await pages.get(f"/a/{bad}", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        assert page.status_code == 404, bad
        assert "Nous ne trouvons pas cette page" in page.text
        posted = await pages.post(f"/a/{bad}", data={"answer": "yes"})
        assert posted.status_code == 404, bad
    assert (await ticket_of(ticket_api, admin, ticket["id"]))["status"] == "waiting_on_user"


async def test_a_form_not_sent_from_our_page_or_too_large_is_refused(
    pages: httpx.AsyncClient, ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    _, ticket = await waiting_ticket(ticket_api, admin)
    path = f"/a/{token_for(stack, ticket)}"
    page = await open_page(pages, path)
    good = form_token(page.text)
    cross_site = await pages.post(
        path,
        data={"form_token": good, "answer": "yes"},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    assert "We could not accept this form" in cross_site.text
    no_token = await pages.post(path, data={"answer": "yes"})
    assert no_token.status_code == 403
    as_json = await pages.post(path, json={"form_token": good, "answer": "yes"})
    assert as_json.status_code == 403
    huge = await pages.post(path, data={"form_token": good, "comment": "x" * 70_000})
    assert huge.status_code == 413
    too_long = await pages.post(
        path, data={"form_token": good, "answer": "no", "comment": "é" * 5001}
    )
    assert too_long.status_code == 422
    assert "5000 characters (it has 5001)" in too_long.text
    no_choice = await pages.post(path, data={"form_token": good, "answer": "maybe"})
    assert no_choice.status_code == 422
    assert "Tell us whether it works now." in no_choice.text
    assert (await ticket_of(ticket_api, admin, ticket["id"]))["status"] == "waiting_on_user"
    assert await comments_of(ticket_api, admin, ticket["id"]) == []


async def test_the_openapi_document_describes_the_answer_pages(pages: httpx.AsyncClient) -> None:
    document = (await pages.get("/openapi.json")).json()
    post = document["paths"]["/a/{token}"]["post"]
    assert {"200", "403", "404", "409", "410", "413", "422"} <= set(post["responses"])
    assert all("text/html" in r["content"] for r in post["responses"].values())
    form = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["properties"]["answer"]["enum"] == ["yes", "no"]
    get = document["paths"]["/a/{token}"]["get"]
    assert {"200", "404", "410"} <= set(get["responses"])


async def test_without_a_note_the_question_is_the_agents_last_public_comment(
    pages: httpx.AsyncClient, ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person = await put_person(ticket_api, admin)
    ticket = await open_ticket(ticket_api, admin, person["id"])
    await move(ticket_api, admin, ticket["id"], "in_progress")
    for body, visibility in [
        ("Looking into it.", "public"),
        ("Please send the output of `ipconfig /all`.", "public"),
        ("Internal: probably the DHCP lease.", "internal"),
    ]:
        said = await ticket_api.post(
            f"/api/v1/tickets/{ticket['id']}/comments",
            json={"body": body, "visibility": visibility},
            headers=admin,
        )
        assert said.status_code == 201, said.text
    waiting = await move(ticket_api, admin, ticket["id"], "waiting_on_user", reason="user_response")
    page = await open_page(pages, f"/a/{token_for(stack, waiting)}")
    assert page.status_code == 200, page.text
    assert "Please send the output of `ipconfig /all`." in page.text
    assert "DHCP" not in page.text
    assert "Looking into it." not in page.text

    # Once the requester has answered that comment, it is no longer the open question.
    await ticket_api.post(
        f"/api/v1/tickets/{ticket['id']}/comments",
        json={"body": "Here is the output.", "visibility": "public"},
        headers=stack.auth(person["id"], "requester"),
    )
    back = await until_status(ticket_api, admin, ticket["id"], "in_progress")
    said = await ticket_api.post(
        f"/api/v1/tickets/{ticket['id']}/comments",
        json={"body": "Thanks, checking.", "visibility": "public"},
        headers=admin,
    )
    assert said.status_code == 201, said.text
    await ticket_api.post(
        f"/api/v1/tickets/{ticket['id']}/comments",
        json={"body": "Also: which Wi-Fi?", "visibility": "public"},
        headers=stack.auth(person["id"], "requester"),
    )
    assert back["status"] == "in_progress"
    again = await move(ticket_api, admin, ticket["id"], "waiting_on_user", reason="user_response")
    page = await open_page(pages, f"/a/{token_for(stack, again)}")
    assert page.status_code == 200, page.text
    assert "No question was written down" in page.text
    assert "ipconfig" not in page.text


async def test_a_link_answered_by_mail_or_api_says_the_answer_arrived(
    pages: httpx.AsyncClient, ticket_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    person, ticket = await waiting_ticket(ticket_api, admin, reason="info_requested")
    path = f"/a/{token_for(stack, ticket)}"
    first = await open_page(pages, path)
    assert first.status_code == 200, first.text[-800:]
    said = await ticket_api.post(
        f"/api/v1/tickets/{ticket['id']}/comments",
        json={"body": "Here it is.", "visibility": "public"},
        headers=stack.auth(person["id"], "requester"),
    )
    assert said.status_code == 201, said.text
    for _ in range(50):
        page = await pages.get(path)
        if page.status_code != 200:
            break
        await asyncio.sleep(0.2)
    assert page.status_code == 410
    assert "We already have your answer" in page.text
