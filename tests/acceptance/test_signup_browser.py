"""Joining the movement in a real browser, with and without JavaScript, up to the activation link."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.acceptance.steps import heading, open_mailbox, press

WIZARD = "/w/signup"
EMAIL = "camille.martin@example.org"


def address(page: Page) -> Locator:
    return page.get_by_role("group", name="Adresse")


def fill_identity(page: Page) -> None:
    page.get_by_label("Prénom", exact=True).fill("Camille")
    page.get_by_label("Nom", exact=True).fill("Martin")
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Mot de passe").fill("une phrase de passe solide")
    page.get_by_label("Date de naissance").fill("1990-05-17")


def join(page: Page, *, scripted: bool) -> None:
    """Every step answered validly, the address at 94320 (Thiais, the only commune of that code)."""
    page.goto(WIZARD)
    expect(heading(page)).to_have_text("Vous")
    fill_identity(page)
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Votre adresse")
    address(page).get_by_label("Numéro et voie").fill("12 avenue de Versailles")
    commune = address(page).get_by_label("Commune (France)")
    if scripted:
        with page.expect_response(lambda r: "/api/cities?postal_code=94320" in r.url):
            address(page).get_by_label("Code postal").press_sequentially("94320")
        expect(commune).to_have_value("94073")  # chosen by the script, before any post
        expect(commune.locator("option")).to_have_text(["Thiais"])
    else:
        address(page).get_by_label("Code postal").fill("94320")
    press(page, "Suivant")  # a postal code of one commune goes through in one post, script or not

    expect(heading(page)).to_have_text("Ce qui vous tient à cœur")
    page.get_by_label("Écologie").check()
    page.get_by_label("Europe").check()
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Vos accords")
    page.get_by_label("J’accepte les conditions d’adhésion").check()
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Vérifiez vos réponses")  # nothing is created before this page
    expect(page.locator("main")).to_contain_text("Thiais")
    press(page, "Créer mon compte")
    expect(heading(page)).to_have_text("Vérifiez votre boîte mail")


def activate_from_the_mailbox(page: Page, live_server: str) -> None:
    """Exactly one message, the activation; its link (built on SITE_URL) is followed on the live server."""
    rows = open_mailbox(page)
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(EMAIL)
    expect(rows).to_contain_text("Activez votre compte, Camille")
    rows.get_by_role("link").click()

    body = page.locator("pre.mail-body")
    expect(body).to_contain_text("/account/activate/")
    found = re.search(r"https?://\S+/account/activate/[A-Za-z0-9_\-]+", body.inner_text())
    assert found, body.inner_text()
    page.goto(live_server + urlsplit(found.group(0)).path)
    expect(page.get_by_text("Bienvenue, Camille")).to_be_visible()


@pytest.mark.browser
def test_a_supporter_joins_and_activates_with_javascript(page: Page, live_server: str) -> None:
    cities: list[str] = []
    page.on("request", lambda request: cities.append(request.url) if "/api/cities" in request.url else None)
    join(page, scripted=True)
    assert cities, "the script never looked the postal code up"
    activate_from_the_mailbox(page, live_server)


@pytest.mark.browser
def test_a_supporter_joins_and_activates_without_javascript(page_without_js: Page, live_server: str) -> None:
    page = page_without_js
    scripted: list[str] = []
    page.on("request", lambda request: scripted.append(request.url) if request.resource_type == "fetch" else None)
    join(page, scripted=False)
    activate_from_the_mailbox(page, live_server)
    assert scripted == [], "the script ran although JavaScript is off"
