"""The dashboard and the studio's publish confirmation on a phone (390x844) and a desktop (1280x900): no
page wider than the screen, chart text at least 14 px, and screenshots in tests/acceptance/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from engagement.accounts import scopes
from engagement.accounts.models import User
from engagement.config import Settings
from engagement.db import make_engine, make_session_factory, transaction, utcnow
from tests.acceptance.test_invitation_browser import create_member, log_in
from tests.analytics_data import build

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}
# The rendered size of SVG text: its font-size in viewBox units times the drawing's scale on screen.
SVG_TEXT_PX = """svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return Math.min(...[...svg.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size')) * scale));
}"""


def create_with_role(settings: Settings, email: str, role: str) -> None:
    create_member(settings, "Alex", "Martin", email)
    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            user = session.scalars(select(User).where(User.email == email)).one()
            user.role = role
            session.flush()
            if role == "organizer":  # the studio is for national organizers
                scopes.grant(session, user, "national", actor=None, now=utcnow())
        if role == "analyst":
            build(factory)
    finally:
        engine.dispose()


def width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def phone(browser: Browser, live_server: str) -> Page:
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport=PHONE)
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.mark.browser
def test_the_dashboard_fits_a_phone_with_readable_charts(browser: Browser, live_server: str, settings: Settings,
                                                          artifacts: Path) -> None:
    create_with_role(settings, "analyst@example.org", "analyst")
    page = phone(browser, live_server)
    try:
        log_in(page, "analyst@example.org")
        page.goto("/analyst/workflows/survey")
        expect(page.locator('#funnel li[data-state="details"] .funnel-label')).to_have_text("Détails")
        expect(page.locator('[data-figure="completion_rate"]')).to_contain_text(",")  # "50,0 %"

        assert width(page) <= PHONE["width"]
        assert page.locator("#diagram").evaluate(SVG_TEXT_PX) >= 14
        label_px = page.locator("#funnel .funnel-label").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert label_px >= 14
        page.screenshot(path=str(artifacts / "dashboard-390.png"), full_page=True)
        page.goto("/analyst/workflows/volunteer")
        assert width(page) <= PHONE["width"]
        expect(page.locator('#funnel li[data-state="routing"]')).to_have_count(0)

        page.set_viewport_size(DESKTOP)
        page.goto("/analyst/workflows/survey")
        assert page.locator("#diagram").evaluate(SVG_TEXT_PX) >= 14
        page.screenshot(path=str(artifacts / "dashboard-1280.png"), full_page=True)
    finally:
        page.context.close()


@pytest.mark.browser
def test_the_publish_confirmation_reads_on_a_phone_and_publishing_waits_for_it(
        browser: Browser, live_server: str, settings: Settings, artifacts: Path) -> None:
    create_with_role(settings, "olivia@example.org", "organizer")
    page = phone(browser, live_server)
    try:
        log_in(page, "olivia@example.org")
        page.goto("/organizer/workflows/editor")
        expect(page.locator("#source")).to_contain_text("id: mon_parcours")  # the commented starter
        page.locator('button[name="action"][value="publish"]').click()

        expect(page.locator("h1")).to_contain_text("Publier la version 1 de mon_parcours")
        expect(page.locator("#in-progress")).to_contain_text("Aucune instance en cours")
        assert width(page) <= PHONE["width"]
        page.screenshot(path=str(artifacts / "studio-confirm-390.png"), full_page=True)
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=str(artifacts / "studio-confirm-1280.png"), full_page=True)
        assert page.request.get("/w/mon_parcours").status == 404  # nothing published before the confirmation

        page.locator("#confirm-form button.primary").click()
        expect(page.locator('#versions tr[data-version="1"] td[data-active="yes"]')).to_be_visible()
        page.locator("#show-on-home").check()
        with page.expect_navigation():  # the post, then its redirect: the box alone is ticked before either
            page.locator("#home-form button").click()
        expect(page.locator("#show-on-home")).to_be_checked()
        card = page.locator('li[data-workflow="mon_parcours"] h2')
        for _ in range(20):  # the other gunicorn worker sees a new version within ACTIVE_TTL_SECONDS (2 s)
            page.goto("/")
            if card.count():
                break
            page.wait_for_timeout(250)
        expect(card).to_have_text("Donner un coup de main")
    finally:
        page.context.close()
