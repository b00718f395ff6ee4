"""Browser fixtures: Debian's Chromium driven by Playwright against the live server.

Debian's own Chromium is used (not Playwright's download) so that the browser comes from the
distribution's security updates: `apt-get install chromium`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import create_engine, select

from engagement.config import Settings
from engagement.workflow.models import WorkflowTransition

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session; each test opens its own context (cookies, storage)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed: run `make browser-deps` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open(browser: Browser, base_url: str, **options: object) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, locale="fr-FR", **options)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A French-speaking visitor with JavaScript on."""
    yield from _open(browser, live_server)


@pytest.fixture
def page_without_js(browser: Browser, live_server: str) -> Iterator[Page]:
    """A French-speaking visitor with JavaScript off."""
    yield from _open(browser, live_server, java_script_enabled=False)


@pytest.fixture
def phone_page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A small phone's viewport (375x812), JavaScript on."""
    yield from _open(browser, live_server, viewport={"width": 375, "height": 812})


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def fired(settings: Settings) -> Callable[[], list[tuple[str, str, str]]]:
    """Read back the transitions the server recorded: [(source, dest, trigger)] in order."""

    def read() -> list[tuple[str, str, str]]:
        engine = create_engine(settings.database_url)
        query = select(WorkflowTransition.source, WorkflowTransition.dest, WorkflowTransition.trigger)
        try:
            with engine.connect() as conn:
                rows = conn.execute(query.order_by(WorkflowTransition.id))
                return [(row.source, row.dest, row.trigger) for row in rows]
        finally:
            engine.dispose()

    return read
