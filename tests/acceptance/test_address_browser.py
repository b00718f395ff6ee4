"""The address field in a real browser (field ``home`` of every_field.yml), with and without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, Request, expect
from sqlalchemy import create_engine, select

from engagement import PROJECT_ROOT
from engagement.config import Settings
from engagement.workflow.models import WorkflowInstance
from tests.acceptance.steps import error_summary, heading, press

WIZARD = "/w/every_field"
CORSICAN_20200 = ["Bastia", "San-Martino-di-Lota", "Santa-Maria-di-Lota", "Ville-di-Pietrabugno"]
Fired = Callable[[], list[tuple[str, str, str]]]


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    env["ENGAGEMENT_WORKFLOWS_DIR"] = str(PROJECT_ROOT / "tests" / "fixtures" / "workflows" / "functional")
    return env


def address(page: Page) -> Locator:
    return page.get_by_role("group", name="Adresse")


def commune(page: Page) -> Locator:
    return address(page).get_by_label("Commune (France)")


def postal_code(page: Page) -> Locator:
    return address(page).get_by_label("Code postal")


def fill_everything_but_the_commune(page: Page, code: str) -> None:
    """Every other field of the profile step, answered validly (a party of 3: the small group comes next)."""
    page.get_by_label("Pseudonyme").fill("camille")
    page.get_by_label("Invités").fill("2")
    page.get_by_label("Budget").fill("12.50")
    page.get_by_label("Arrivée").fill("2025-06-01")
    page.get_by_label("Petite").check()
    page.get_by_label("Climat").check()
    page.get_by_label("École").check()
    page.get_by_label("Portable").fill("06 12 34 56 78")
    page.locator("[data-field=postcode]").get_by_label("Code postal").fill("75002")
    page.get_by_label("Nationalité").select_option("BE")
    address(page).get_by_label("Numéro et voie").fill("12 avenue de Versailles")
    postal_code(page).fill(code)
    page.get_by_label("J'accepte le règlement").check()


def recorded_address(settings: Settings) -> dict[str, str]:
    """The address the server recorded for the walk of every_field.yml."""
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            [data] = conn.execute(select(WorkflowInstance.data).where(WorkflowInstance.workflow_id == "every_field"))
            return data[0]["home"]
    finally:
        engine.dispose()


def wizard_posts(page: Page) -> list[str]:
    """Records every POST of the step form itself (not the visibility or cities look-ups)."""
    posted: list[str] = []

    def record(request: Request) -> None:
        path = "/" + request.url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        if request.method == "POST" and path.startswith(WIZARD) and not path.endswith("/visibility"):
            posted.append(request.url)  # the step's own form, posted to /w/<id> or /w/<id>/<state>

    page.on("request", record)
    return posted


@pytest.mark.browser
def test_typing_94320_selects_thiais_before_any_submit(page: Page, fired: Fired) -> None:
    posted = wizard_posts(page)
    page.goto(WIZARD)
    expect(heading(page)).to_have_text("Profil")
    with page.expect_response(lambda r: "/api/cities?postal_code=94320" in r.url) as answer:
        postal_code(page).press_sequentially("94320")
    assert answer.value.json()["cities"] == [{"code": "94073", "name": "Thiais"}]
    expect(commune(page)).to_have_value("94073")
    expect(commune(page).locator("option")).to_have_text(["Thiais"])
    assert posted == []

    fill_everything_but_the_commune(page, "94320")
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Petit groupe")
    assert len(posted) == 1  # the commune was already chosen: one post
    assert fired()[0] == ("profile", "sorting", "next")


@pytest.mark.browser
def test_typing_a_shared_postal_code_offers_all_its_communes(page: Page) -> None:
    page.goto(WIZARD)
    postal_code(page).press_sequentially("20200")
    options = commune(page).locator("option")
    expect(options).to_have_text(["Choisissez votre commune", *CORSICAN_20200])
    expect(commune(page)).to_have_value("")
    commune(page).select_option(label="Santa-Maria-di-Lota")
    expect(commune(page)).to_have_value("2B309")

    postal_code(page).fill("")
    postal_code(page).press_sequentially("94320")  # another postal code replaces the list
    expect(options).to_have_text(["Thiais"])
    expect(commune(page)).to_have_value("94073")


@pytest.mark.browser
def test_choosing_switzerland_shows_the_city_name_instead_of_the_communes(page: Page) -> None:
    page.goto(WIZARD)
    city_name = address(page).get_by_label("Ville (hors de France)")
    expect(commune(page)).to_be_visible()
    expect(city_name).to_be_hidden()

    address(page).get_by_label("Pays").select_option(label="Suisse")
    expect(commune(page)).to_be_hidden()
    expect(city_name).to_be_visible()

    address(page).get_by_label("Pays").select_option(label="France")
    expect(commune(page)).to_be_visible()
    expect(city_name).to_be_hidden()


@pytest.mark.browser
def test_swiss_address_goes_through_with_a_city_name(page: Page) -> None:
    page.goto(WIZARD)
    fill_everything_but_the_commune(page, "8001")
    address(page).get_by_label("Pays").select_option(label="Suisse")
    press(page, "Suivant")
    expect(error_summary(page)).to_contain_text("Saisissez la ville.")
    expect(address(page).get_by_label("Ville (hors de France)")).to_be_visible()
    address(page).get_by_label("Ville (hors de France)").fill("Zürich")
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Petit groupe")


@pytest.mark.browser
def test_shared_postal_code_works_in_two_posts_without_javascript(page_without_js: Page, fired: Fired) -> None:
    page = page_without_js
    scripted: list[str] = []
    page.on("request", lambda request: scripted.append(request.url) if request.resource_type == "fetch" else None)
    page.goto(WIZARD)
    expect(commune(page).locator("option")).to_have_text(["Choisissez votre commune"])
    fill_everything_but_the_commune(page, "20200")
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Profil")
    expect(error_summary(page)).to_have_count(0)  # the next part of the page, not a mistake
    expect(address(page)).to_contain_text("Plusieurs communes ont le code postal 20200\u00a0: choisissez la vôtre.")
    expect(commune(page).locator("option")).to_have_text(["Choisissez votre commune", *CORSICAN_20200])
    expect(commune(page)).to_be_focused()
    expect(commune(page)).not_to_have_attribute("aria-invalid", "true")
    expect(postal_code(page)).to_have_value("20200")
    assert fired() == []
    commune(page).select_option(label="Bastia")
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Petit groupe")
    assert fired()[0] == ("profile", "sorting", "next")
    assert scripted == [], "the script ran although JavaScript is off"


@pytest.mark.browser
def test_choosing_belgium_drops_the_french_commune_and_france_brings_it_back(page: Page) -> None:
    page.goto(WIZARD)
    city_name = address(page).get_by_label("Ville (hors de France)")
    with page.expect_response(lambda r: "/api/cities?postal_code=75011" in r.url):
        postal_code(page).press_sequentially("75011")
    expect(commune(page)).to_have_value("75111")

    address(page).get_by_label("Pays").select_option(label="Belgique")
    expect(commune(page)).to_be_hidden()
    expect(commune(page)).to_have_value("")  # nothing French is sent for a Belgian address
    expect(commune(page).locator("option")).to_have_text(["Choisissez votre commune"])
    expect(city_name).to_be_visible()
    expect(city_name).to_have_value("")
    expect(postal_code(page)).to_have_attribute("inputmode", "text")  # foreign postal codes have letters

    address(page).get_by_label("Pays").select_option(label="France")
    expect(city_name).to_be_hidden()
    expect(commune(page)).to_be_visible()
    expect(commune(page)).to_have_value("75111")  # the lookup runs again for the postal code typed
    expect(commune(page).locator("option")).to_have_text(["Paris 11e Arrondissement"])
    expect(postal_code(page)).to_have_attribute("inputmode", "numeric")


@pytest.mark.browser
def test_belgian_address_after_back_is_recorded_with_the_city_typed(page: Page, settings: Settings) -> None:
    page.goto(WIZARD)
    fill_everything_but_the_commune(page, "75011")
    expect(commune(page)).to_have_value("75111")
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Petit groupe")

    page.get_by_role("button", name="Retour").click()
    expect(heading(page)).to_have_text("Profil")
    expect(commune(page)).to_have_value("75111")
    city_name = address(page).get_by_label("Ville (hors de France)")
    expect(city_name).to_be_hidden()
    expect(city_name).to_have_value("")  # the commune shows in its list, not in the foreign city's input

    address(page).get_by_label("Pays").select_option(label="Belgique")
    postal_code(page).fill("1000")
    press(page, "Suivant")
    expect(error_summary(page)).to_contain_text("Saisissez la ville")
    expect(city_name).to_have_attribute("aria-invalid", "true")
    expect(postal_code(page)).not_to_have_attribute("aria-invalid", "true")
    city_name.fill("Bruxelles")
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Petit groupe")
    assert recorded_address(settings) == {"street": "12 avenue de Versailles", "postal_code": "1000", "city": "",
                                          "city_name": "Bruxelles", "country": "BE"}


@pytest.mark.browser
def test_address_step_on_a_phone(phone_page: Page, artifacts: Path) -> None:
    page = phone_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(WIZARD)
    postal_code(page).press_sequentially("01400")
    expect(commune(page).locator("option")).to_have_count(11)
    address(page).scroll_into_view_if_needed()
    address(page).screenshot(path=str(artifacts / "address-390.png"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    for control in (postal_code(page), commune(page), address(page).get_by_label("Numéro et voie")):
        box = control.bounding_box()
        assert box and box["height"] >= 44 and box["x"] + box["width"] <= 390
