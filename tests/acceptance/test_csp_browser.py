"""The Content-Security-Policy in a real browser: the main pages work under it and Chromium reports
no violation (it logs each one to the console as "Refused to ...", and fires securitypolicyviolation)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from engagement.config import Settings
from tests.acceptance.test_event_browser import create_event
from tests.acceptance.test_invitation_browser import log_in
from tests.acceptance.test_search_browser import indexed  # noqa: F401 - the fixture
from tests.acceptance.test_studio_browser import create_organizer

pytestmark = pytest.mark.browser
WATCH = """document.addEventListener("securitypolicyviolation", (e) => {
  (window.violations = window.violations || []).push(e.violatedDirective + " " + e.blockedURI);
});"""


@pytest.fixture
def refused(page: Page) -> Iterator[list[str]]:
    """The CSP refusals of the page, from the console and from the DOM event, checked after the test."""
    found: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("Refused to"):
            found.append(message.text)

    page.on("console", on_console)
    page.add_init_script(WATCH)
    yield found


def violations(page: Page, refused: list[str]) -> list[str]:
    return refused + (page.evaluate("window.violations || []") or [])


def test_the_public_pages_run_their_scripts_without_violation(page: Page, settings: Settings, refused: list[str],
                                                               indexed: None) -> None:  # noqa: F811
    slug = create_event(settings, "Réunion publique sur l'école", capacity=10)
    page.goto("/")
    expect(page.locator("main")).to_be_visible()
    page.goto(f"/events/{slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Réunion publique sur l'école")
    page.goto("/signup")
    expect(page.locator('form[data-state="identity"]')).to_be_visible()
    page.goto("/search")
    page.locator("#q").press_sequentially("evene", delay=60)
    expect(page.locator("#search-results li.card")).to_have_count(1)  # drawn by search.js
    assert violations(page, refused) == []


def test_the_wizard_address_lookup_runs_without_violation(page: Page, refused: list[str]) -> None:
    page.goto("/w/signup")
    form = page.locator('form[data-state="identity"]')
    form.locator('[name="first_name"]').fill("Camille")
    form.locator('[name="last_name"]').fill("Martin")
    form.locator('[name="email"]').fill("camille.csp@example.org")
    form.locator('[name="password"]').fill("une phrase de passe solide")
    form.locator('[name="birth_date"]').fill("1990-05-17")
    form.locator('button[name="trigger"][value="next"]').click()
    page.locator('[name="address-postal_code"]').fill("94320")
    expect(page.locator('[name="address-city"] option[value="94073"]')).to_have_count(1)  # fetched by wizard.js
    assert violations(page, refused) == []


def test_the_studio_draws_its_diagram_without_violation(page: Page, settings: Settings, refused: list[str]) -> None:
    create_organizer(settings, "olivia@example.org")
    log_in(page, "olivia@example.org")
    page.goto("/organizer/workflows/signup")
    expect(page.locator("pre.mermaid svg")).to_be_visible()
    assert violations(page, refused) == []
