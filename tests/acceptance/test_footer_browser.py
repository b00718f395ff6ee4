"""The footer on a phone and a desktop: every link reachable, a 44px target, nothing wider than the screen; the
privacy notice it opens; a consent box's link that opens the terms without ticking the box. Screenshots go to
tests/acceptance/artifacts/ (footer-390x844.png, footer-1280x900.png, privacy-390x844.png)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.acceptance.steps import fill_identity, press

LINKS = [("Politique de confidentialité", "/confidentialite"), ("Mentions légales", "/mentions-legales"),
         ("Contact", "/contact"), ("Conditions d’adhésion", "/conditions-d-adhesion"),
         ("Charte des bénévoles", "/charte-des-benevoles")]


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 900)])
def test_the_footer_fits_the_screen_with_large_targets(browser: Browser, live_server: str, artifacts: Path,
                                                        width: int, height: int):
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto("/events")
        footer = page.get_by_test_id("site-footer")
        footer.scroll_into_view_if_needed()
        for name, href in LINKS:
            link = footer.get_by_role("link", name=name, exact=True)
            expect(link).to_have_attribute("href", href)
            box = link.bounding_box()
            assert box and box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= width, name
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        page.screenshot(path=str(artifacts / f"footer-{width}x{height}.png"), full_page=True)

        footer.get_by_role("link", name="Politique de confidentialité").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Politique de confidentialité")
        expect(page.get_by_role("heading", name="Vos droits")).to_be_visible()
        if width < 600:
            page.screenshot(path=str(artifacts / f"privacy-{width}x{height}.png"))
    finally:
        context.close()


def test_the_charter_link_opens_the_charter_and_leaves_the_box_alone(phone_page):
    page = phone_page
    page.goto("/w/volunteer")
    fill_identity(page, "Camille", "camille@example.org", "30")
    press(page, "Suivant")
    page.get_by_label("Organisation d’événements").check()
    press(page, "Suivant")
    box = page.get_by_label("J’accepte la charte des bénévoles")
    link = page.get_by_role("link", name="Lire le texte")
    expect(link).to_have_attribute("href", "/charte-des-benevoles")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Charte des bénévoles")
    page.go_back()
    expect(box).not_to_be_checked()
