"""The public policy pages on the live stack: sla and escalation ``/policy``, and the link
to the sla one in the confirmation of a new ticket."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from stopclock_shared.testing.factories import open_ticket, put_person
from stopclock_shared.testing.maildir import MailWatcher, body_text
from stopclock_shared.testing.stack import Stack, unique

TAG = re.compile(r"<[^>]+>")
OFFICE = {
    "timezone": "Europe/Paris",
    "week": {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": {"country": "FR"},
}


@pytest.fixture
async def sla_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("sla"), timeout=30) as client:
        yield client


@pytest.fixture
async def escalation_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("escalation"), timeout=30) as client:
        yield client


def visible(page: str) -> str:
    """What a reader sees: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(TAG.sub(" ", page)).split())


def section_of(page: str, name: str, heading: str) -> str:
    """The visible text of the policy section naming ``name`` (``Policy “name”``)."""
    found = [s for s in page.split('<section class="policy"') if f"{heading}{name}" in s]
    assert len(found) == 1, f"no single section for {name}"
    return visible(found[0].split("</section>")[0])


async def put_office_policy(sla: httpx.AsyncClient, admin: dict[str, str]) -> tuple[str, str]:
    """A new office calendar and a P1-incident policy on it for a service of its own."""
    calendar, policy, service = unique("office"), unique("pages"), unique("svc")
    response = await sla.put(f"/api/v1/sla/calendars/{calendar}", json=OFFICE, headers=admin)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = {
        "match": {"type": "incident", "priority": "P1", "service": service},
        "order": -1_000_000,
        "warn_at": [0.5, 0.75, 0.9],
        "targets": {
            "first_response": {
                "seconds": 1800,
                "calendar": "24x7",
                "pause_reasons": ["info_requested"],
            },
            "resolution": {"seconds": 4 * 3600, "calendar": calendar},
        },
    }
    response = await sla.put(f"/api/v1/sla/policies/{policy}", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return policy, service


async def test_the_sla_page_tells_a_new_policy_in_english_and_french(
    sla_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    policy, service = await put_office_policy(sla_api, admin)
    by_query = await sla_api.get("/policy", params={"lang": "en"})
    by_header = await sla_api.get("/policy", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    by_query_fr = await sla_api.get("/policy", params={"lang": "fr"})
    unknown = await sla_api.get("/policy", params={"lang": "xx"})

    assert by_query.status_code == 200
    assert by_query.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in by_query.text
    english = section_of(by_query.text, policy, "Policy “")
    assert (
        f"We resolve P1 incidents for the service “{service}” within 4 working hours, "
        "Monday\u2013Friday 08:00\u201318:00 Paris time, public holidays in France excepted."
    ) in english
    assert "within 30 minutes, around the clock" in english
    assert "alerted when 50%, 75% and 90% of the time" in english
    page = visible(by_query.text)
    assert "The clock stops while we wait for you" in page
    assert "It restarts the moment you answer" in page

    assert '<html lang="fr">' in by_header.text
    assert by_header.text == by_query_fr.text
    french = section_of(by_header.text, policy, "Politique « ")
    assert (
        f"Nous résolvons les incidents P1 pour le service « {service} » dans un délai de "
        "4 heures ouvrées, du lundi au vendredi de 08:00 à 18:00, heure de Paris, hors jours "
        "fériés en France."
    ) in french
    assert "nous vous avons demandé une information" in french
    page_fr = visible(by_header.text)
    assert "Le chronomètre s'arrête pendant que nous vous attendons" in page_fr
    assert "Il repart dès que vous répondez" in page_fr

    assert '<html lang="en">' in unknown.text
    for response in (by_query, by_header):
        assert "<script" not in response.text.lower()
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "script-src" not in response.headers["content-security-policy"]


async def test_the_sla_page_is_cached_by_etag_and_changes_with_the_policies(
    sla_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await sla_api.get("/policy?lang=en")
    etag = first.headers["etag"]
    again = await sla_api.get("/policy?lang=en", headers={"If-None-Match": etag})
    other_language = await sla_api.get("/policy?lang=fr", headers={"If-None-Match": etag})
    await put_office_policy(sla_api, admin)
    changed = await sla_api.get("/policy?lang=en", headers={"If-None-Match": etag})

    assert first.headers["cache-control"] == "public, max-age=300"
    assert first.headers["vary"] == "Accept-Language"
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == etag
    assert other_language.status_code == 200
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_a_hostile_service_name_is_escaped_on_the_page(
    sla_api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    policy, service = unique("hostile"), f"<script>alert('{unique('x')}')</script>"
    body = {
        "match": {"service": service},
        "order": 2_000_000_000,
        "warn_at": [],
        "targets": {"resolution": {"seconds": 0.5, "calendar": "24x7", "pause_reasons": []}},
    }
    response = await sla_api.put(f"/api/v1/sla/policies/{policy}", json=body, headers=admin)
    assert response.status_code == 201, response.text
    page = await sla_api.get("/policy?lang=en")
    assert page.status_code == 200
    assert "<script" not in page.text.lower()
    section = section_of(page.text, policy, "Policy “")
    assert f"All tickets for the service “{service}”" in section
    assert "This clock keeps running even while we wait for you." in section


async def test_the_escalation_page_tells_a_new_policy_and_links_to_the_sla_page(
    sla_api: httpx.AsyncClient,
    escalation_api: httpx.AsyncClient,
    admin: dict[str, str],
    stack: Stack,
) -> None:
    calendar, policy, service = unique("office"), unique("esc-pages"), unique("svc")
    response = await sla_api.put(f"/api/v1/sla/calendars/{calendar}", json=OFFICE, headers=admin)
    assert response.status_code in (200, 201), response.text
    body = {
        "match": {"service": service},
        "order": -1_000_000,
        "reminders": [8 * 3600, 20 * 3600],
        "final_grace_seconds": 4 * 3600,
        "calendar": calendar,
        "manager_escalation": {
            "requires_work_blocked": True,
            "min_unresponsive_episodes": 3,
            "window_days": 60,
        },
        "desk_manager_email": "desk.manager@example.com",
    }
    # The escalation service learns the calendar from sla.events: a moment after the PUT.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        put = await escalation_api.put(
            f"/api/v1/escalation/policies/{policy}", json=body, headers=admin
        )
        if put.status_code != 422 or loop.time() > deadline:
            break
        await asyncio.sleep(0.2)
    assert put.status_code in (200, 201), put.text

    english = await escalation_api.get("/policy", params={"lang": "en"})
    french = await escalation_api.get("/policy", headers={"Accept-Language": "fr"})
    cached = await escalation_api.get(
        "/policy", params={"lang": "en"}, headers={"If-None-Match": english.headers["etag"]}
    )

    assert english.status_code == 200
    section = section_of(english.text, policy, "Policy “")
    assert (
        "we send you a reminder by email after 8 working hours, then after 2 working days "
        "of waiting, counted Monday\u2013Friday 08:00\u201318:00 Paris time, public holidays "
        "in France excepted."
    ) in section
    assert "If we still have no answer 4 working hours after the last reminder:" in section
    assert "at least 3 of our questions unanswered in the last 60 days" in section
    assert "resolve the ticket for lack of response" in section
    assert "reopen it just by answering" in section
    sla_link = re.search(r'href="([^"]+/policy\?lang=en)"', english.text)
    assert sla_link is not None
    linked = await sla_api.get("/policy?lang=en")  # the page it names is the sla one
    assert linked.status_code == 200
    assert "Our service targets, and when the clock stops" in linked.text

    assert '<html lang="fr">' in french.text
    assert "nous vous relançons par e-mail après 8 heures ouvrées" in visible(french.text)
    assert re.search(r'href="[^"]+/policy\?lang=fr"', french.text)
    assert "<script" not in english.text.lower()
    assert "default-src 'none'" in english.headers["content-security-policy"]
    assert english.headers["cache-control"] == "public, max-age=300"
    assert cached.status_code == 304


async def test_the_confirmation_of_a_new_ticket_links_to_the_policy_page(
    ticket_api: httpx.AsyncClient, sla_api: httpx.AsyncClient, admin: dict[str, str], stack: Stack
) -> None:
    watcher = MailWatcher(stack.maildir)
    person_id = unique("person")
    person = await put_person(ticket_api, admin, person_id, locale="fr-FR")
    await open_ticket(ticket_api, admin, person_id)
    [mail] = await watcher.wait_for(
        lambda m: (
            str(m.get("X-Stopclock-Kind", "")) == "ticket_opened"
            and str(m["To"]).lower() == person["email"].lower()
        ),
        timeout=30,
    )
    text = body_text(mail)
    link = re.search(r"(https?://\S+/policy\?lang=fr)", text)
    assert link is not None, text
    assert "exactement quand le chronomètre s'arrête et repart" in text
    html_part = mail.get_body(("html",))
    assert html_part is not None
    assert f'href="{link.group(1)}"' in str(html_part.get_content())

    page = await sla_api.get("/policy", params={"lang": "fr"})
    assert page.status_code == 200
    assert "Nos engagements de service" in page.text
