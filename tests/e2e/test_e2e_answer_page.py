"""A requester answers a waiting ticket in a real browser, from the link in our mail.

Playwright drives the system's Chromium (Debian package, headless; never a downloaded
browser). Needs the whole stack: the ticket service, the notification service (it mails the
links), the survey service (it serves the pages), Kafka, PostgreSQL and the SMTP catcher's
Maildir. Screenshots are kept in test-artifacts/answer-page/ (git-ignored).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import new_page

from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.maildir import MailWatcher, body_text
from stopclock_shared.testing.stack import Stack

try:
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import Browser, Page, expect
except ModuleNotFoundError:  # the browser fixture fails the tests (conftest.py)
    pass

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
ANSWER_LINK = re.compile(r"https?://\S+?/a/[A-Za-z0-9_-]{40,}(?:\?answer=(?:yes|no))?")


@pytest.fixture(scope="module")
def artifacts(stack: Stack) -> Path:
    path = stack.repo_root / "test-artifacts" / "answer-page"
    path.mkdir(parents=True, exist_ok=True)
    return path


async def waiting_ticket(
    tickets: httpx.AsyncClient, admin: dict[str, str], reason: str, note: str, **person: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    requester = await put_person(tickets, admin, **person)
    ticket = await open_ticket(tickets, admin, requester["id"], title="VPN drops every hour")
    await move(tickets, admin, ticket["id"], "in_progress")
    await move(tickets, admin, ticket["id"], "waiting_on_user", reason=reason, note=note)
    return requester, ticket


async def answer_links(mails: MailWatcher, address: str) -> list[str]:
    """The answer links of the mail that asked ``address`` something."""
    found = await mails.wait_for(
        lambda m: (
            str(m["To"]).lower() == address.lower()
            and str(m["X-Stopclock-Kind"]) == "info_requested"
        ),
        timeout=25,
    )
    assert found, f"no question mailed to {address}; is the notification service running?"
    links = ANSWER_LINK.findall(body_text(found[0]))
    assert links, "the mail has no answer link"
    return [str(link) for link in links]


async def until_status(
    tickets: httpx.AsyncClient, admin: dict[str, str], ticket_id: str, status: str
) -> dict[str, Any]:
    for _ in range(100):
        response = await tickets.get(f"/api/v1/tickets/{ticket_id}", headers=admin)
        ticket: dict[str, Any] = response.json()
        if ticket["status"] == status:
            break
        await asyncio.sleep(0.2)
    return ticket


async def comments(
    tickets: httpx.AsyncClient, admin: dict[str, str], ticket_id: str
) -> list[dict[str, Any]]:
    response = await tickets.get(f"/api/v1/tickets/{ticket_id}/comments", headers=admin)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def no_accessibility_violations(page: Page) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


async def test_one_click_confirmation_from_the_mail_resolves_the_ticket(
    page: Page,
    tickets: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
    artifacts: Path,
) -> None:
    question = "We replaced the VPN profile.\nDoes the connection hold for an hour now?"
    requester, ticket = await waiting_ticket(tickets, admin, "user_validation", question)
    [yes] = [link for link in await answer_links(mails, requester["email"]) if "=yes" in link]

    response = await page.goto(yes)
    assert response is not None
    assert response.status == 200
    await expect(page.get_by_role("heading", level=1)).to_have_text("Does it work now?")
    await expect(page.get_by_text(f"{ticket['number']}: VPN drops every hour")).to_be_visible()
    await expect(page.locator("blockquote")).to_have_text(question)
    await expect(page.get_by_label("Yes, it works")).to_be_checked()
    await expect(page.get_by_label("No, it still fails")).not_to_be_checked()
    await no_accessibility_violations(page)
    await page.screenshot(path=str(artifacts / "confirm-form.png"), full_page=True)
    # Opening the link (as a mail scanner does) changed nothing.
    assert (await until_status(tickets, admin, ticket["id"], "waiting_on_user"))[
        "status"
    ] == "waiting_on_user"

    await page.get_by_role("button", name="Send my answer").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you: your ticket is resolved"
    )
    await expect(page.get_by_text(f"we have resolved {ticket['number']}")).to_be_visible()
    await page.screenshot(path=str(artifacts / "confirm-thank-you.png"), full_page=True)
    assert (artifacts / "confirm-thank-you.png").stat().st_size > 0

    resolved = await until_status(tickets, admin, ticket["id"], "resolved")
    assert resolved["status"] == "resolved"
    assert resolved["resolution"] == "Confirmed by the requester: it works."
    [comment] = await comments(tickets, admin, ticket["id"])
    assert (comment["body"], comment["channel"]) == ("Yes, it works.", "page")
    assert comment["author_id"] == requester["id"]

    # The link again, later: it says what happened instead of a form.
    again = await page.goto(yes)
    assert again is not None
    assert again.status == 410
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "You have already confirmed the fix"
    )
    await page.screenshot(path=str(artifacts / "confirm-link-again.png"), full_page=True)


async def test_a_written_answer_in_french_puts_the_ticket_back_in_progress(
    browser: Browser,
    tickets: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
    artifacts: Path,
) -> None:
    requester, ticket = await waiting_ticket(
        tickets, admin, "info_requested", "Quel modèle de portable ?", locale="fr"
    )
    [link] = await answer_links(mails, requester["email"])
    page = await new_page(browser, "fr-FR")
    try:
        await page.goto(link)
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Nous avons besoin d'informations de votre part"
        )
        assert await page.locator("html").get_attribute("lang") == "fr"
        await expect(page.locator("input[type=radio]")).to_have_count(0)
        # The answer is required: the browser itself refuses to send an empty form.
        await page.get_by_role("button", name="Envoyer ma réponse").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Nous avons besoin d'informations de votre part"
        )
        await page.get_by_label("Votre réponse").fill("Un ThinkPad T14 <gen 3>.")
        await no_accessibility_violations(page)
        await page.screenshot(path=str(artifacts / "comment-form-fr.png"), full_page=True)
        await page.get_by_role("button", name="Envoyer ma réponse").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Merci, nous avons votre réponse"
        )
        await expect(page.get_by_text("repart dès maintenant")).to_be_visible()
        await page.screenshot(path=str(artifacts / "comment-thank-you-fr.png"), full_page=True)
    finally:
        await page.context.close()

    back = await until_status(tickets, admin, ticket["id"], "in_progress")
    assert back["status"] == "in_progress"
    [comment] = await comments(tickets, admin, ticket["id"])
    assert (comment["body"], comment["channel"]) == ("Un ThinkPad T14 <gen 3>.", "page")
