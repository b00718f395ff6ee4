"""Events near a postal code on a phone (390x844): the search form without JavaScript, nearest first with the
distance, online events apart, a bad postal code explained; every control a 44 px target; screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from engagement import demo_events
from engagement.config import Settings
from engagement.core import bootstrap
from engagement.db import transaction, utcnow
from engagement.search import service as search

pytestmark = pytest.mark.browser
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture
def demo(settings: Settings) -> None:
    """The demo's committees and events, in the database the live server reads."""
    core = bootstrap(settings)
    try:
        with transaction(core.sessions) as session:
            demo_events.load(session, utcnow())
    finally:
        core.engine.dispose()
        search.configure(None)


def opened(browser: Browser, base_url: str, viewport: ViewportSize, *, javascript: bool) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, locale="fr-FR", viewport=viewport,
                                  java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    """A phone without JavaScript: the search must work as a plain GET form."""
    yield from opened(browser, live_server, PHONE, javascript=False)


@pytest.fixture
def desktop(browser: Browser, live_server: str) -> Iterator[Page]:
    yield from opened(browser, live_server, DESKTOP, javascript=True)


def assert_fits_and_targets_are_large(page: Page) -> None:
    width, viewport = page.evaluate("document.documentElement.scrollWidth"), page.viewport_size
    assert viewport is not None and width <= viewport["width"], f"the page scrolls sideways: {width}px"
    for control in page.locator("form[role=search] :is(input:not([type=hidden]), select, button, summary)").all():
        if control.is_visible():
            box = control.bounding_box()
            assert box and box["height"] >= 44, (control.evaluate("e => e.outerHTML"), box)


def test_a_phone_finds_the_demo_paris_events_near_75011(phone: Page, demo: None, artifacts: Path) -> None:
    phone.goto("/events")
    assert_fits_and_targets_are_large(phone)
    expect(phone.get_by_label("Code postal")).to_be_visible()
    phone.get_by_label("Code postal").fill("75011")
    phone.get_by_label("Dans un rayon de").select_option("10")
    phone.get_by_role("button", name="Trouver des événements").click()
    assert "near=75011" in phone.url and "km=10" in phone.url
    expect(phone.get_by_test_id("near-summary")).to_have_text(
        "2 événements à moins de 10\u00a0km de 75011 Paris 11e Arrondissement")
    cards = phone.get_by_test_id("event-list").locator("li.card")
    expect(cards.locator("h2 a")).to_have_text(["Débat\u00a0: quelle santé pour nos quartiers\u00a0?",
                                                "Réunion publique\u00a0: l’école de demain"])
    expect(cards.get_by_test_id("distance")).to_have_text(["2,1\u00a0km", "2,1\u00a0km"])
    online = phone.get_by_test_id("online-events")
    expect(online.get_by_role("heading", name="En ligne", exact=True)).to_be_visible()
    expect(online.locator("h3 a")).to_have_text(["Formation en ligne\u00a0: animer un comité"])
    assert_fits_and_targets_are_large(phone)
    phone.screenshot(path=str(artifacts / "events-near-390.png"), full_page=True)

    phone.get_by_label("Type").select_option(label="Débat")
    phone.get_by_role("button", name="Trouver des événements").click()
    expect(cards.locator("h2 a")).to_have_text(["Débat\u00a0: quelle santé pour nos quartiers\u00a0?"])
    expect(phone.get_by_test_id("online-events")).to_have_count(0)


def test_a_bad_postal_code_is_explained_next_to_the_field(phone: Page, demo: None, artifacts: Path) -> None:
    phone.goto("/events?near=7501&km=10")
    expect(phone.locator(".error-summary")).to_contain_text("Saisissez un code postal de 5 chiffres")
    field = phone.get_by_label("Code postal")
    expect(field).to_have_attribute("aria-invalid", "true")
    phone.locator(".error-summary a").click()
    assert phone.url.endswith("#near")
    phone.goto("/events?near=99999")
    expect(phone.locator("#near-error")).to_contain_text("Aucune commune française n’a le code postal 99999")
    assert_fits_and_targets_are_large(phone)
    phone.screenshot(path=str(artifacts / "events-near-error-390.png"), full_page=True)


def test_more_filters_open_without_javascript_and_keep_the_dates(phone: Page, demo: None, artifacts: Path) -> None:
    phone.goto("/events?near=75011")
    phone.get_by_text("Plus de filtres").click()
    assert_fits_and_targets_are_large(phone)
    phone.get_by_label("Du", exact=True).fill("2030-01-01")
    phone.get_by_role("button", name="Trouver des événements").click()
    assert "from=2030-01-01" in phone.url
    expect(phone.get_by_label("Du", exact=True)).to_have_value("2030-01-01")  # the filters stay open and filled
    expect(phone.get_by_test_id("near-summary")).to_contain_text(
        "Aucun événement à venir à moins de 10\u00a0km de 75011 Paris 11e Arrondissement.")
    expect(phone.get_by_role("link", name="Chercher à moins de 20\u00a0km")).to_be_visible()
    phone.screenshot(path=str(artifacts / "events-near-filters-390.png"), full_page=True)


def test_the_list_on_a_desktop(desktop: Page, demo: None, artifacts: Path) -> None:
    desktop.goto("/events?near=75011&km=10")
    expect(desktop.get_by_test_id("event-list").locator("li.card")).to_have_count(2)
    assert_fits_and_targets_are_large(desktop)
    desktop.screenshot(path=str(artifacts / "events-near-1280.png"), full_page=True)
