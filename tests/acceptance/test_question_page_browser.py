"""The details of a good question page, measured in Chromium: touch targets on a phone, the focus on the
error summary (with and without JavaScript), the `required_if` marker following a live answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.acceptance.conftest import _open
from tests.acceptance.steps import MISSION, WIZARD, error_summary, fill_identity, heading, press

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TYPES = ["text", "email", "tel", "number", "date", "search", "url", "datetime-local", "password", None]
LONG_LABEL = ("J’accepte que mes coordonnées soient transmises aux organisateurs de l’événement, qui les "
              "utiliseront pour me tenir informé de son déroulement et de ses suites, et pour rien d'autre")


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    """A 390x844 phone, JavaScript on."""
    yield from _open(browser, live_server, viewport=PHONE)


@pytest.fixture
def phone_without_js(browser: Browser, live_server: str) -> Iterator[Page]:
    yield from _open(browser, live_server, viewport=PHONE, java_script_enabled=False)


def _add_controls(page: Page) -> None:
    """Every input type (and one with no type), a select, and boxes beside a long label, in the step's form."""
    page.evaluate("""([types, long]) => {
        const form = document.getElementById("step-form");
        const box = document.createElement("div");
        box.className = "field";
        types.forEach((type, i) => {
            const input = document.createElement("input");
            if (type) { input.type = type; }
            input.id = "probe-" + i; input.dataset.probe = type || "(none)";
            box.appendChild(input);
        });
        const select = document.createElement("select");
        select.dataset.probe = "select"; select.add(new Option("Un", "1"));
        box.appendChild(select);
        box.insertAdjacentHTML("beforeend",
            '<div class="check"><input type="checkbox" id="probe-check"> ' +
            '<label for="probe-check">' + long + '</label></div>' +
            '<ul class="options"><li><input type="radio" id="probe-radio" name="probe"> ' +
            '<label for="probe-radio">' + long + '</label></li></ul>');
        form.prepend(box);
    }""", [TYPES, LONG_LABEL])


@pytest.mark.browser
def test_every_control_is_a_44px_target_on_a_phone(phone: Page) -> None:
    page = phone
    page.goto(WIZARD)
    _add_controls(page)
    heights = page.evaluate("""() => Array.from(document.querySelectorAll("[data-probe]"))
        .map(el => [el.dataset.probe, el.getBoundingClientRect().height])""")
    assert [kind for kind, _ in heights] == [t or "(none)" for t in TYPES] + ["select"]
    short = {kind: height for kind, height in heights if height < 44}
    assert not short, f"controls under 44px on a 390px phone: {short}"
    real = page.evaluate("""() => Array.from(document.querySelectorAll("#step-form input[name], #step-form select"))
        .filter(el => !["hidden", "checkbox", "radio"].includes(el.type) && el.offsetParent)
        .filter(el => !el.id.startsWith("probe"))
        .map(el => [el.name, el.getBoundingClientRect().height])""")
    assert real and all(height >= 44 for _name, height in real), real


@pytest.mark.browser
def test_boxes_keep_their_size_beside_a_long_label_with_a_44px_label(phone: Page) -> None:
    page = phone
    page.goto(WIZARD)
    _add_controls(page)
    for box_id in ("probe-check", "probe-radio"):
        box = page.locator(f"#{box_id}").bounding_box()
        label = page.locator(f"label[for={box_id}]").bounding_box()
        assert box and label
        assert box["width"] == pytest.approx(24, abs=0.5) and box["height"] == pytest.approx(24, abs=0.5), box
        assert label["height"] >= 44 and label["x"] > box["x"] + box["width"], (box, label)
    page.locator("label[for=probe-check]").click(position={"x": 5, "y": 2})  # the label's edge ticks the box
    expect(page.locator("#probe-check")).to_be_checked()


def _to_availability(page: Page) -> None:
    page.goto(WIZARD)
    fill_identity(page, "Camille", "camille@example.org", "34")
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Vos disponibilités")


@pytest.mark.browser
def test_the_required_if_marker_follows_the_answer_live(phone: Page) -> None:
    page = phone
    _to_availability(page)
    field = page.locator('[data-field="phone"]')
    marker = field.locator("[data-required-marker]")
    phone_input = page.get_by_label("Téléphone")
    expect(marker).to_be_hidden()
    expect(phone_input).not_to_have_attribute("required", "")
    page.get_by_label(MISSION["phoning"]).check()
    expect(marker).to_be_visible()
    expect(phone_input).to_have_attribute("aria-required", "true")
    assert phone_input.evaluate("el => el.required") is True
    page.get_by_label(MISSION["phoning"]).uncheck()
    expect(marker).to_be_hidden()
    expect(phone_input).not_to_have_attribute("aria-required", "true")
    assert phone_input.evaluate("el => el.required") is False


def _fail_identity(page: Page) -> None:
    page.goto(WIZARD)
    page.get_by_label("Adresse e-mail").fill("camille@")
    press(page, "Suivant")
    expect(error_summary(page)).to_be_visible()


@pytest.mark.browser
def test_focus_is_on_the_error_summary_after_a_failed_submit_with_javascript(phone: Page) -> None:
    _fail_identity(phone)
    expect(phone).to_have_title("Erreur\u00a0: Vous · Engagement")
    expect(phone.locator("#error-summary")).to_be_focused()


@pytest.mark.browser
def test_focus_is_on_the_error_summary_after_a_failed_submit_without_javascript(phone_without_js: Page) -> None:
    _fail_identity(phone_without_js)
    expect(phone_without_js.locator("#error-summary")).to_be_focused()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_screenshot_of_a_failed_step(browser: Browser, live_server: str, artifacts: Path, viewport: dict) -> None:
    size = f"{viewport['width']}x{viewport['height']}"
    for page in _open(browser, live_server, viewport=viewport):
        page.goto(WIZARD)
        page.get_by_label("Adresse e-mail").fill("camille@")
        press(page, "Suivant")
        expect(error_summary(page)).to_contain_text("Prénom : Saisissez votre prénom")
        page.screenshot(path=str(artifacts / f"failed-identity-{size}.png"), full_page=True)
        _to_availability(page)
        page.get_by_label(MISSION["phoning"]).check()
        press(page, "Suivant")
        expect(error_summary(page)).to_contain_text("Saisissez votre numéro de téléphone")
        page.screenshot(path=str(artifacts / f"failed-availability-{size}.png"), full_page=True)
        page.get_by_label("Téléphone").fill("06 12 34 56 78")
        press(page, "Suivant")
        press(page, "Suivant")  # the charter left unticked
        expect(error_summary(page)).to_contain_text("Cochez la case pour accepter la charte des bénévoles")
        page.screenshot(path=str(artifacts / f"failed-consent-{size}.png"), full_page=True)
