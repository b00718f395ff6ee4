"""Covers in a real browser: the blurred placeholder first, then the real image fading in once it has loaded
(JavaScript on); without JavaScript the real image simply shows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select

from engagement import PROJECT_ROOT, demo
from engagement.config import Settings
from engagement.core import bootstrap
from engagement.events.models import Event
from engagement.search import service as search

pytestmark = pytest.mark.browser
LOADED = re.compile(r"\bloaded\b")


@pytest.fixture
def event_slug(settings: Settings) -> str:
    """The demo data (events, committees and pages with their covers), written where the server reads."""
    core = bootstrap(settings)
    try:
        demo.load(core.sessions, PROJECT_ROOT / "workflows")
        with core.sessions() as session:
            return session.scalars(select(Event.slug).where(Event.cover_media_id.is_not(None))
                                   .order_by(Event.id)).first() or ""
    finally:
        core.engine.dispose()
        search.configure(None)


def opacity(page: Page, selector: str) -> str:
    return page.eval_on_selector(selector, "element => getComputedStyle(element).opacity")


def test_the_placeholder_shows_until_the_image_arrives(page: Page, event_slug: str) -> None:
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)  # the image waits here until released

    page.route("**/media/**", hold)
    page.goto(f"/events/{event_slug}", wait_until="domcontentloaded")
    # (waits use locators: the page's CSP refuses the eval behind wait_for_function)
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
    while not held:
        page.wait_for_timeout(50)
    hero, placeholder = page.locator(".media.hero img.media-image"), page.locator(".media.hero img.media-placeholder")
    expect(placeholder).to_be_visible()
    assert placeholder.evaluate("img => img.complete && img.naturalWidth") > 0  # a data: URI, already there
    assert hero.evaluate("img => img.naturalWidth") == 0
    expect(hero).not_to_have_class(LOADED)
    assert opacity(page, ".media.hero img.media-image") == "0"
    for route in held:
        route.continue_()
    page.unroute("**/media/**")
    expect(hero).to_have_class(LOADED)
    assert hero.evaluate("img => img.naturalWidth") > 0
    expect(hero).to_have_css("opacity", "1")
    box = hero.bounding_box()
    assert box and abs(box["width"] / box["height"] - 16 / 9) < 0.02  # the box kept its ratio throughout


def test_lazy_cards_fade_in_as_they_are_scrolled_to(page: Page, event_slug: str) -> None:
    page.set_viewport_size({"width": 400, "height": 800})
    page.goto("/")
    cards = page.locator(".card-cover img.media-image")
    expect(cards).to_have_count(12)
    for index in range(12):
        card = cards.nth(index)
        card.scroll_into_view_if_needed()
        expect(card).to_have_class(LOADED)
        assert card.evaluate("img => img.naturalWidth") > 0


def test_without_javascript_the_real_image_simply_shows(page_without_js: Page, event_slug: str) -> None:
    page = page_without_js
    page.goto(f"/events/{event_slug}")
    hero = page.locator(".media.hero img.media-image")
    expect(hero).to_be_visible()
    expect(hero).to_have_js_property("complete", True)
    assert hero.evaluate("img => img.naturalWidth") > 0
    assert opacity(page, ".media.hero img.media-image") == "1"
    assert page.evaluate("document.documentElement.className") == ""
    expect(hero).not_to_have_class(LOADED)
