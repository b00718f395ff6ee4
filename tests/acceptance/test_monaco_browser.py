"""Monaco's postal code in a real browser (field ``home`` of every_field.yml): with JavaScript, typing 98000 with
France chooses Monaco as the country and says so; without, the server does the same after one send."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from engagement.config import Settings
from tests.acceptance.steps import error_summary, heading, press
from tests.acceptance.test_address_browser import (
    WIZARD,
    address,
    commune,
    env,  # noqa: F401 - the test workflows
    fill_everything_but_the_commune,
    postal_code,
    recorded_address,
)

NOTICE = "Les codes postaux commençant par 980 sont ceux de Monaco, pas de la France\u00a0: Monaco est maintenant "


@pytest.mark.browser
def test_typing_98000_with_france_chooses_monaco_and_asks_for_no_commune(page: Page, settings: Settings) -> None:
    page.goto(WIZARD)
    fill_everything_but_the_commune(page, "")
    with page.expect_response(lambda r: "/api/cities?postal_code=98000" in r.url) as answer:
        postal_code(page).press_sequentially("98000")
    assert answer.value.json() == {"postal_code": "98000", "cities": [], "country": "MC"}
    expect(address(page).get_by_label("Pays")).to_have_value("MC")
    expect(address(page)).to_contain_text(NOTICE)
    expect(commune(page)).to_be_hidden()
    expect(address(page).get_by_label("Ville (hors de France)")).to_have_value("Monaco")
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Petit groupe")
    assert recorded_address(settings)["country"] == "MC" and recorded_address(settings)["city"] == ""


@pytest.mark.browser
def test_98000_with_france_is_offered_monaco_without_javascript(page_without_js: Page, settings: Settings) -> None:
    page = page_without_js
    page.goto(WIZARD)
    fill_everything_but_the_commune(page, "98000")
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Profil")
    expect(error_summary(page)).to_contain_text(NOTICE)
    expect(address(page).get_by_label("Pays")).to_have_value("MC")
    press(page, "Suivant")  # the offer taken as it stands
    expect(heading(page)).to_have_text("Petit groupe")
    assert recorded_address(settings)["country"] == "MC"
