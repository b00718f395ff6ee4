"""The volunteer wizard in a real browser with JavaScript: live conditions, focus, one submit per click."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Response, Route, expect

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

Fired = Callable[[], list[tuple[str, str, str]]]


def _tick_mission(page: Page, mission: str) -> dict[str, list[str]]:
    """Tick a mission and return what the visibility endpoint answered for the form with it ticked."""

    def answers_with_mission(response: Response) -> bool:
        sent = response.request.post_data or ""  # multipart: the value follows a blank line
        return urlsplit(response.url).path == f"{WIZARD}/visibility" and f"\r\n\r\n{mission}\r\n" in sent

    with page.expect_response(answers_with_mission) as answer:
        page.get_by_label(MISSION[mission]).check()
    assert answer.value.ok
    return answer.value.json()


@pytest.mark.browser
def test_adult_signs_up_as_volunteer_with_javascript(page: Page) -> None:
    page.goto(WIZARD)
    expect(heading(page)).to_have_text("Vous")
    fill_identity(page, "Camille", "camille@example.org", "34")
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Vos disponibilités")
    expect(licence(page)).to_be_visible()
    phone = page.get_by_label("Téléphone")
    shown = _tick_mission(page, "phoning")
    assert {"driving_licence", "phone"} <= set(shown["visible"])
    expect(phone).to_be_visible()
    expect(licence(page)).to_be_visible()

    # phoning makes the phone number required: the server refuses the step without it
    press(page, "Suivant")
    expect(error_summary(page)).to_contain_text("Téléphone")
    expect(page.get_by_label(MISSION["phoning"])).to_be_checked()
    phone.fill("06 12 34 56 78")
    _tick_mission(page, "events")
    licence(page).check()
    press(page, "Suivant")

    sign_the_charter(page, "Disponible le week-end.")

    expect(heading(page)).to_have_text("Merci\u00a0!")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect_single_welcome_mail(page, "Camille", "camille@example.org")


@pytest.mark.browser
def test_driving_licence_question_is_hidden_from_a_minor(page: Page) -> None:
    page.goto(WIZARD)
    fill_identity(page, "Lou", "lou@example.org", "16")
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Vos disponibilités")
    shown = _tick_mission(page, "digital")
    assert "driving_licence" in shown["hidden"]
    expect(licence(page)).to_be_hidden()
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Accord parental")


@pytest.mark.browser
def test_validation_error_moves_focus_to_the_error_summary(page: Page) -> None:
    page.goto(WIZARD)
    fill_identity(page, "C", "not-an-address", "34")
    press(page, "Suivant")

    summary = error_summary(page)
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    expect(summary.get_by_role("link")).to_have_count(2)
    expect(page.get_by_label("Prénom")).to_have_value("C")


@pytest.mark.browser
def test_second_click_while_sending_fires_no_second_transition(page: Page, fired: Fired) -> None:
    sent: list[Route] = []  # the step's POSTs, held back like a slow network until both clicks are done
    page.route(f"**{WIZARD}/*",
               lambda route: sent.append(route) if route.request.method == "POST" else route.fallback())
    page.goto(WIZARD)
    fill_identity(page, "Camille", "camille@example.org", "34")
    box = page.get_by_role("button", name="Suivant").bounding_box()
    assert box is not None
    with page.expect_request(lambda request: request.method == "POST"):
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(500)  # room for a second POST to leave, if the page let it
    assert len(sent) == 1
    sent[0].fallback()

    expect(heading(page)).to_have_text("Vos disponibilités")
    expect(page.get_by_role("status")).to_have_count(0)  # no "already sent" notice
    assert fired() == [("identity", "availability", "next")]


@pytest.mark.browser
def test_step_with_errors_fits_a_small_phone(phone_page: Page, artifacts: Path) -> None:
    page = phone_page
    page.goto(WIZARD)
    fill_identity(page, "C", "not-an-address", "12")
    press(page, "Suivant")
    expect(error_summary(page)).to_contain_text("Il faut avoir au moins 15 ans pour nous rejoindre.")

    shot = artifacts / "wizard-errors-375x812.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "the page scrolls sideways"
