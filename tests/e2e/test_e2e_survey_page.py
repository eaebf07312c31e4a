"""A requester answers the satisfaction survey in a real browser, from the invitation mail.

Playwright drives the system's Chromium (Debian package, headless; never a downloaded
browser). Needs the whole stack: ticket, survey, escalation and notification services,
Kafka, PostgreSQL and the SMTP catcher's Maildir. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from stopclock_shared.testing.factories import move, open_ticket, put_person
from stopclock_shared.testing.maildir import MailWatcher, body_text
from stopclock_shared.testing.stack import Stack, unique

try:
    from playwright.async_api import Browser, Page, expect
except ModuleNotFoundError:  # the browser fixture fails the tests (conftest.py)
    pass

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
LINK = re.compile(r"https?://\S+/s/[A-Za-z0-9_-]{22,}")


@pytest.fixture(scope="module")
def artifacts(stack: Stack) -> Path:
    path = stack.repo_root / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


async def resolved_ticket(
    tickets: httpx.AsyncClient, admin: dict[str, str], **fields: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    requester = await put_person(tickets, admin)
    ticket = await open_ticket(
        tickets, admin, requester["id"], title="Laptop will not dock", **fields
    )
    await move(tickets, admin, ticket["id"], "in_progress")
    await move(tickets, admin, ticket["id"], "resolved", resolution="Docking firmware updated.")
    return requester, ticket


async def invitation_link(mails: MailWatcher, address: str) -> str:
    """The survey link of the invitation mail sent to ``address``."""
    found = await mails.wait_for(
        lambda m: (
            str(m["To"]).lower() == address.lower()
            and str(m["X-Stopclock-Kind"]) == "survey_invitation"
        ),
        timeout=25,
    )
    assert found, f"no survey invitation mailed to {address}; is the notification service running?"
    links = LINK.findall(body_text(found[0]))
    assert links, "the invitation mail has no survey link"
    return str(links[0]).split("?")[0]


async def ticket_status(tickets: httpx.AsyncClient, admin: dict[str, str], ticket_id: str) -> str:
    response = await tickets.get(f"/api/v1/tickets/{ticket_id}", headers=admin)
    return str(response.json()["status"])


async def test_a_requester_answers_from_the_invitation_mail_and_is_thanked(
    page: Page,
    tickets: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
    stack: Stack,
    artifacts: Path,
) -> None:
    requester, ticket = await resolved_ticket(tickets, admin)
    link = await invitation_link(mails, requester["email"])

    await page.goto(link)
    await expect(page.get_by_role("heading", level=1)).to_contain_text(ticket["number"])
    await expect(page.get_by_text("Laptop will not dock")).to_be_visible()
    await page.get_by_label("4, satisfied").check()
    await page.get_by_label("Yes, it is resolved").check()
    await page.get_by_label("What should we know? (optional)").fill("Fixed within the hour.")
    await page.screenshot(path=str(artifacts / "survey-form.png"), full_page=True)
    await page.get_by_role("button", name="Send my answer").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your answer")
    await page.screenshot(path=str(artifacts / "survey-thank-you.png"), full_page=True)
    assert (artifacts / "survey-thank-you.png").stat().st_size > 0
    async with httpx.AsyncClient(base_url=stack.url("survey"), timeout=15) as surveys:
        listed = await surveys.get(
            "/api/v1/surveys", params={"ticket_id": ticket["id"]}, headers=admin
        )
    [survey] = listed.json()["items"]
    assert (survey["status"], survey["rating"], survey["resolved"]) == ("answered", 4, True)
    assert survey["comment"] == "Fixed within the hour."


async def test_not_resolved_reopens_the_ticket_tells_the_desk_manager_and_refuses_a_second_answer(
    browser: Browser,
    page: Page,
    tickets: httpx.AsyncClient,
    admin: dict[str, str],
    mails: MailWatcher,
    stack: Stack,
    artifacts: Path,
) -> None:
    service = unique("survey-svc")
    desk_manager = f"{unique('desk')}@example.com"
    async with httpx.AsyncClient(base_url=stack.url("escalation"), timeout=15) as escalation:
        policy = await escalation.put(
            f"/api/v1/escalation/policies/{service}",
            json={
                "match": {"service": service},
                "order": 0,
                "reminders": [86_400],
                "final_grace_seconds": 86_400,
                "desk_manager_email": desk_manager,
            },
            headers=admin,
        )
    assert policy.status_code == 201, policy.text
    requester, ticket = await resolved_ticket(tickets, admin, service=service)
    link = await invitation_link(mails, requester["email"])
    # The same form open twice, as when a mail is clicked again later.
    second_tab = await page.context.new_page()
    await second_tab.goto(link)

    await page.goto(link + "?rating=1")
    await expect(page.get_by_label("1, very dissatisfied")).to_be_checked()
    await page.get_by_label("No, it is not resolved").check()
    await page.get_by_label("What should we know? (optional)").fill("It still drops <every> hour.")
    await page.get_by_role("button", name="Send my answer").click()
    await expect(page.get_by_text(f"We have reopened {ticket['number']}")).to_be_visible()
    await expect(page.get_by_text("The service desk manager has been told")).to_be_visible()
    await page.screenshot(path=str(artifacts / "survey-negative-thank-you.png"), full_page=True)

    await second_tab.get_by_label("5, very satisfied").check()
    await second_tab.get_by_label("Yes, it is resolved").check()
    await second_tab.get_by_role("button", name="Send my answer").click()
    await expect(second_tab.get_by_role("heading", level=1)).to_have_text(
        "You have already answered this survey"
    )
    await second_tab.screenshot(path=str(artifacts / "survey-second-answer.png"), full_page=True)

    for _ in range(80):
        if await ticket_status(tickets, admin, ticket["id"]) == "in_progress":
            break
        await asyncio.sleep(0.25)
    assert await ticket_status(tickets, admin, ticket["id"]) == "in_progress"
    told = await mails.wait_for(
        lambda m: (
            str(m["To"]).lower() == desk_manager
            and str(m["X-Stopclock-Kind"]) == "negative_feedback"
        ),
        timeout=25,
    )
    assert len(told) == 1, "the desk manager was not mailed; is the notification service running?"
    assert ticket["number"] in str(told[0]["Subject"])
    assert "It still drops <every> hour." in body_text(told[0])
