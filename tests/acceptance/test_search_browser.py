"""Search in a real browser: results follow what is typed (JavaScript on), and the form works without it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from engagement.config import Settings
from engagement.core import bootstrap
from engagement.search import service
from tests.search_data import LYON, PARIS, commit, committee, event

pytestmark = pytest.mark.browser


@pytest.fixture
def indexed(settings: Settings) -> None:
    """Rows written through a wired core, so that they are indexed (the server reads the same database)."""
    core = bootstrap(settings)
    try:
        commit(core.sessions, lambda s: s.add_all([event("Événement : réunion publique", address=PARIS),
                                                  committee("Comité Écologie Lyon", address=LYON)]))
    finally:
        core.engine.dispose()
        service.configure(None)


def test_results_update_as_you_type(page: Page, indexed: None) -> None:
    page.goto("/search")
    page.evaluate("window.stayed = true")  # gone if the page reloads: the results must come without one
    results = page.locator("#search-results li.card")
    expect(results).to_have_count(0)
    page.locator("#q").press_sequentially("evene", delay=60)
    expect(results).to_have_count(1)
    expect(results.first.locator("h2 a")).to_have_text("Événement : réunion publique")
    expect(results.first.locator(".flow-title")).to_have_text("Événement")
    expect(page.locator("#search-status")).to_contain_text("evene")
    page.locator("#q").fill("ecolo")
    expect(results.first.locator("h2 a")).to_have_text("Comité Écologie Lyon")
    expect(results).to_have_count(1)
    page.locator("#type").select_option("event")
    expect(results).to_have_count(0)
    assert page.evaluate("window.stayed") is True
    assert "q=ecolo" in page.url and "type=event" in page.url  # the address can be shared or reloaded


def test_the_form_searches_without_javascript(page_without_js: Page, indexed: None) -> None:
    page_without_js.goto("/search")
    page_without_js.locator("#q").fill("Réunion")
    page_without_js.locator("form[role=search] button[type=submit]").click()
    expect(page_without_js.locator("#search-results li.card h2 a")).to_have_text(["Événement : réunion publique"])
