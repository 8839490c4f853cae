"""Browser fixtures: Debian's headless Chromium driven by Playwright, and the service in sandbox mode.

Chromium is never downloaded: the tests use the system's /usr/bin/chromium. Without it they are skipped
locally and fail in CI (CI=true), like the PostgreSQL tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect, sync_playwright

from orderwire.settings import Settings
from tests.browser.support import DESKTOP_VIEWPORT, NewPage, Screenshot
from tests.conftest import TEST_API_KEY, api
from tests.support.live import LiveService

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000  # every wait in a page (locators, navigation, expect) is bounded by this
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

expect.set_options(timeout=TIMEOUT_MS)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session; each test gets fresh contexts from it."""
    if not os.access(CHROMIUM, os.X_OK):
        message = (
            f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package to run browser tests"
        )
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[NewPage]:
    """Open a page in a fresh context (own cookies, viewport, JavaScript setting); closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(viewport: ViewportSize = DESKTOP_VIEWPORT, **options: Any) -> Page:
        context = browser.new_context(viewport=viewport, locale="en-IN", **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: NewPage) -> Page:
    """A desktop page (1280×900)."""
    return new_page()


@pytest.fixture
def sandbox_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveService]:
    """The real service in this process, on SQLite, with no WhatsApp credentials: the sandbox is on."""
    for name in Settings.model_fields:  # a developer's shell must not switch the sandbox off
        monkeypatch.delenv(f"ORDERWIRE_{name.upper()}", raising=False)
    env = {
        "ORDERWIRE_DATABASE_URL": f"sqlite:///{tmp_path}/orderwire.db",
        "ORDERWIRE_API_KEY": TEST_API_KEY,
        "ORDERWIRE_QUIET_HOURS_START": "0",  # no quiet hours: messages go out whenever the test runs
        "ORDERWIRE_QUIET_HOURS_END": "0",
    }
    with LiveService(env) as live:
        assert live.rt is not None and live.rt.settings.sandbox
        yield live


@pytest.fixture
def client(sandbox_service: LiveService) -> Iterator[httpx.Client]:
    """The REST API of the sandbox service, with the API key."""
    with api(sandbox_service.url) as http:
        yield http


@pytest.fixture
def screenshot() -> Screenshot:
    """Save a PNG of the page to docs/screenshots/<name>, only when ORDERWIRE_SCREENSHOTS=1."""

    def save(page: Page, name: str) -> Path | None:
        if os.environ.get("ORDERWIRE_SCREENSHOTS") != "1":
            return None
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        page.screenshot(path=path, animations="disabled", caret="hide")
        return path

    return save
