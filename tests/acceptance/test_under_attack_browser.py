"""In Chromium: the language button works without a session (pages stay cacheable), and under attack a
visitor reads the public pages while forms show the closed page; both without CSP violations."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from engagement import switches
from engagement.config import Settings
from engagement.db import make_engine, make_session_factory, transaction, utcnow
from tests.acceptance.test_event_browser import create_event
from web.underattack import POLL_SECONDS

pytestmark = pytest.mark.browser


def turn(settings: Settings, on: bool) -> None:
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            switches.turn(session, switches.UNDER_ATTACK, on=on, by="test", now=utcnow())
    finally:
        engine.dispose()


def test_the_language_button_needs_no_session(page: Page) -> None:
    page.goto("/events")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith("/events")
    names = {cookie["name"] for cookie in page.context.cookies()}
    assert names == {"lang"}  # no session was created: the page stays cacheable
    page.goto("/committees")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_under_attack_pages_read_and_forms_closed(page: Page, settings: Settings) -> None:
    slug = create_event(settings, "Réunion sur les transports", capacity=10)
    turn(settings, True)
    page.wait_for_timeout(POLL_SECONDS * 1000 + 500)  # every worker reads the switch again
    page.goto("/")
    expect(page.locator("main")).to_be_visible()
    page.get_by_role("link", name="Réunion sur les transports").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Réunion sur les transports")
    assert page.url.endswith(f"/events/{slug}")
    answer = page.goto("/signup")
    assert answer is not None and answer.status == 503
    expect(page.locator('[data-closed="under-attack"] h1')).to_have_text("Le site est temporairement fermé")
    page.get_by_role("link", name="Événements").last.click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    turn(settings, False)
    page.wait_for_timeout(POLL_SECONDS * 1000 + 500)
    page.goto("/signup")
    expect(page.locator('form[data-state="identity"]')).to_be_visible()
