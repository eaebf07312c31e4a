"""Fixtures of the end-to-end tests: the running stack, its APIs, the Maildir, and a real
browser (Playwright driving the system's Chromium: the Debian package, headless; never a
downloaded browser)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, PLAYWRIGHT_MISSING, new_page

from stopclock_shared.testing.maildir import MailWatcher
from stopclock_shared.testing.stack import Stack, unique

try:
    from playwright.async_api import Browser, Page, async_playwright
except ModuleNotFoundError:  # reported by the browser fixture (PLAYWRIGHT_MISSING)
    pass


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack.from_env()


@pytest.fixture
def admin(stack: Stack) -> dict[str, str]:
    return stack.auth(unique("admin"), "admin", "agent")


@pytest.fixture
async def tickets(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url("ticket"), timeout=15) as client:
        yield client


@pytest.fixture
def mails(stack: Stack) -> MailWatcher:
    return MailWatcher(stack.maildir)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if PLAYWRIGHT_MISSING is not None:
        pytest.fail(f"a Python package of the browser tests is missing ({PLAYWRIGHT_MISSING})")
    assert Path(CHROMIUM).exists(), "Chromium is missing: apt-get install -y chromium"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    opened = await new_page(browser, "en-GB")
    yield opened
    await opened.context.close()
