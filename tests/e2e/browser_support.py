"""The browser of the end-to-end tests: Playwright driving the system's Chromium (the Debian
package, headless; never a downloaded browser)."""

from __future__ import annotations

try:
    from playwright.async_api import Browser, Page
except ModuleNotFoundError as missing:  # a failing test, never a collection error for all
    PLAYWRIGHT_MISSING: ModuleNotFoundError | None = missing
else:
    PLAYWRIGHT_MISSING = None

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--headless=new",
]


async def new_page(browser: Browser, locale: str) -> Page:
    context = await browser.new_context(locale=locale, viewport={"width": 900, "height": 1100})
    return await context.new_page()
