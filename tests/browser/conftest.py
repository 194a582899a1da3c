"""Browser-test fixtures: one sandbox per module, headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.server import DEMO_REVIEWS, Sandbox

CHROMIUM = Path(os.environ.get("SECREVIEW_CHROMIUM", "/usr/bin/chromium"))
# Offline and quiet: no first-run pages, no update checks, no QUIC, nothing that reaches the internet.
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The whole sandbox (fake Slack, secreview over HTTP, the page) on free loopback ports, with demo data."""
    # The sandbox is SQLite by design, whatever SECREVIEW_TEST_DATABASE_URL says.
    # Fewer demo reviews than the command's quarter (enough for a digest with figures, and seconds faster),
    # except for the screenshots in docs/, which should show what a person trying it sees.
    reviews = DEMO_REVIEWS if os.environ.get("SECREVIEW_SCREENSHOTS") == "1" else 24
    with Sandbox(port=0, db_file=tmp_path_factory.mktemp("sandbox") / "sandbox.db", demo_reviews=reviews) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's package, not Playwright's download); skipped where it is not installed."""
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM}: apt-get install chromium (CI installs it)"
        if os.environ.get("REQUIRE_BROWSER"):  # CI sets it, so a missing browser fails instead of passing quietly
            pytest.fail(reason)
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extras)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, sandbox: Sandbox) -> Iterator[Any]:
    """A fresh browser tab on the sandbox page; JavaScript errors fail the test."""
    yield from sandbox_tab(browser, sandbox)


def sandbox_tab(browser: Any, sandbox: Sandbox) -> Iterator[Any]:
    """A tab in a browser context of its own (its own storage, so its own person); JavaScript errors fail."""
    context = browser.new_context(viewport={"width": 1400, "height": 860}, locale="en-GB", timezone_id="UTC")
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(sandbox.url)
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
