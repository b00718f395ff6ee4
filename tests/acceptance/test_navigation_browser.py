"""Moving about the volunteer wizard on a phone, as a person does: the browser's Back button, the progress,
the review page and its change links, and the restart's confirmation; with JavaScript and without."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.acceptance.conftest import _open
from tests.acceptance.steps import MISSION, WIZARD, fill_identity, heading, press

PHONE = {"width": 390, "height": 844}


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def phone(request: pytest.FixtureRequest, browser: Browser, live_server: str) -> Iterator[Page]:
    """A 390x844 phone, with JavaScript on and then off."""
    yield from _open(browser, live_server, viewport=PHONE, java_script_enabled=request.param)


def progress(page: Page) -> tuple[int, int, str]:
    element = page.locator("[data-step][data-steps]")
    expect(element).to_have_count(1)
    return int(element.get_attribute("data-step")), int(element.get_attribute("data-steps")), element.inner_text()


def to_review(page: Page) -> None:
    page.goto(WIZARD)
    fill_identity(page, "Camille", "camille@example.org", "34")
    press(page, "Suivant")
    page.get_by_label(MISSION["events"]).check()
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Un dernier mot")
    page.get_by_label("J’accepte la charte des bénévoles").check()
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Vérifiez vos réponses")


@pytest.mark.browser
def test_the_back_button_shows_the_earlier_step_with_its_answers_and_a_change_goes_on_from_there(phone: Page):
    phone.goto(WIZARD)
    expect(phone).to_have_url(re.compile(r"/w/volunteer/identity$"))
    assert progress(phone)[0] == 1 and progress(phone)[2] == f"Étape 1 sur {progress(phone)[1]}"
    fill_identity(phone, "Camille", "camille@example.org", "34")
    press(phone, "Suivant")
    expect(phone).to_have_url(re.compile(r"/w/volunteer/availability$"))
    assert progress(phone)[0] == 2

    phone.go_back()  # the browser's own Back: the first step at its URL, with what was typed
    expect(phone).to_have_url(re.compile(r"/w/volunteer/identity$"))
    expect(heading(phone)).to_have_text("Vous")
    expect(phone.get_by_label("Prénom")).to_have_value("Camille")
    expect(phone.get_by_label("Âge")).to_have_value("34")
    assert progress(phone)[0] == 1

    phone.get_by_label("Prénom").fill("Camila")
    press(phone, "Suivant")
    expect(phone).to_have_url(re.compile(r"/w/volunteer/availability$"))
    phone.go_back()
    expect(phone.get_by_label("Prénom")).to_have_value("Camila")


@pytest.mark.browser
def test_the_review_lists_the_answers_and_a_change_returns_to_it(phone: Page, artifacts, request):
    to_review(phone)
    number, steps, words = progress(phone)
    assert number == steps == 4 and words == "Étape 4 sur 4"
    expect(phone.locator("main")).to_contain_text("Camille")
    expect(phone.locator("main")).to_contain_text("camille@example.org")
    expect(phone.locator("main")).to_contain_text(MISSION["events"])
    links = phone.locator("a[data-change]")
    assert [links.nth(i).get_attribute("data-change") for i in range(links.count())] == [
        "identity", "availability", "summary"]
    phone.screenshot(path=str(artifacts / f"review-{request.node.callspec.id}.png"), full_page=True)

    phone.locator('a[data-change="identity"]').click()
    expect(phone).to_have_url(re.compile(r"/w/volunteer/identity$"))
    expect(phone.get_by_label("Adresse e-mail")).to_have_value("camille@example.org")
    phone.get_by_label("Adresse e-mail").fill("camille.martin@example.org")
    press(phone, "Suivant")

    expect(heading(phone)).to_have_text("Vérifiez vos réponses")  # straight back to the review
    expect(phone.locator("main")).to_contain_text("camille.martin@example.org")
    press(phone, "Je deviens bénévole")
    expect(heading(phone)).to_have_text("Merci\u00a0!")


@pytest.mark.browser
def test_a_step_not_reached_yet_sends_back_to_the_current_one(phone: Page):
    phone.goto(WIZARD)
    phone.goto(f"{WIZARD}/check")
    expect(phone).to_have_url(re.compile(r"/w/volunteer/identity$"))
    expect(heading(phone)).to_have_text("Vous")


@pytest.mark.browser
def test_restarting_asks_first_and_no_keeps_every_answer(phone: Page):
    phone.goto(WIZARD)
    fill_identity(phone, "Camille", "camille@example.org", "34")
    press(phone, "Suivant")

    phone.get_by_role("link", name="Tout recommencer").click()
    expect(heading(phone)).to_have_text("Tout recommencer\u00a0?")
    phone.get_by_role("link", name="Non, revenir au formulaire").click()
    expect(phone).to_have_url(re.compile(r"/w/volunteer/availability$"))
    phone.goto(f"{WIZARD}/identity")
    expect(phone.get_by_label("Prénom")).to_have_value("Camille")  # nothing was erased

    phone.goto(f"{WIZARD}/restart")
    press(phone, "Oui, effacer mes réponses")
    expect(phone).to_have_url(re.compile(r"/w/volunteer/identity$"))
    expect(phone.get_by_label("Prénom")).to_have_value("")
    assert progress(phone)[0] == 1
