"""The volunteer wizard with JavaScript off: plain HTML forms must carry the visitor to the end."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.acceptance.steps import (
    MISSION,
    WIZARD,
    error_summary,
    expect_single_welcome_mail,
    fill_identity,
    heading,
    licence,
    press,
    sign_the_charter,
)


@pytest.mark.browser
def test_adult_signs_up_as_volunteer_without_javascript(page_without_js: Page) -> None:
    page = page_without_js
    scripted = []
    page.on("request", lambda request: scripted.append(request.url) if request.resource_type == "fetch" else None)
    page.goto(WIZARD)
    fill_identity(page, "Camille", "camille@example.org", "12")
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Vous")
    expect(error_summary(page)).to_contain_text("Il faut avoir au moins 15 ans pour nous rejoindre.")
    expect(page.get_by_label("Âge")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Prénom")).to_have_value("Camille")
    expect(page.get_by_label("Adresse e-mail")).to_have_value("camille@example.org")
    expect(page.get_by_label("Âge")).to_have_value("12")
    page.get_by_label("Âge").fill("34")
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Vos disponibilités")
    expect(licence(page)).to_be_visible()
    for mission in ("canvassing", "events", "digital", "logistics"):
        page.get_by_label(MISSION[mission]).check()
    press(page, "Suivant")

    expect(error_summary(page)).to_contain_text("Missions qui vous intéressent")
    for mission in ("canvassing", "events", "digital", "logistics"):
        expect(page.get_by_label(MISSION[mission])).to_be_checked()
    page.get_by_label(MISSION["logistics"]).uncheck()
    press(page, "Suivant")

    sign_the_charter(page)

    expect(heading(page)).to_have_text("Merci\u00a0!")
    expect_single_welcome_mail(page, "Camille", "camille@example.org")
    assert scripted == [], "the script ran although JavaScript is off"


@pytest.mark.browser
def test_minor_is_asked_for_guardian_consent_without_javascript(page_without_js: Page) -> None:
    page = page_without_js
    page.goto(WIZARD)
    fill_identity(page, "Lou", "lou@example.org", "16")
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Vos disponibilités")
    expect(licence(page)).to_be_hidden()
    page.get_by_label(MISSION["canvassing"]).check()
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Accord parental")
    page.get_by_label("E-mail du responsable légal").fill("parent@example.org")
    page.get_by_label("Mon responsable légal est d’accord").check()
    press(page, "Suivant")

    sign_the_charter(page)
    expect(heading(page)).to_have_text("Merci\u00a0!")


@pytest.mark.browser
def test_back_keeps_what_was_typed_on_the_page_without_javascript(page_without_js: Page) -> None:
    page = page_without_js
    page.goto(WIZARD)
    fill_identity(page, "Camille", "camille@example.org", "34")
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Vos disponibilités")
    page.get_by_label(MISSION["phoning"]).check()
    press(page, "Retour")

    expect(heading(page)).to_have_text("Vous")
    expect(page.get_by_label("Prénom")).to_have_value("Camille")
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Vos disponibilités")
    expect(page.get_by_label(MISSION["phoning"])).to_be_checked()
    expect(page.get_by_label(MISSION["events"])).not_to_be_checked()
