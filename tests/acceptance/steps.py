"""What a visitor does on the volunteer wizard, in French, through labels and roles only."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

WIZARD = "/w/volunteer"
MISSION = {"canvassing": "Porte-à-porte", "phoning": "Appels téléphoniques", "events": "Organisation d’événements",
           "digital": "Action numérique", "logistics": "Logistique"}


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def fill_identity(page: Page, first_name: str, email: str, age: str) -> None:
    page.get_by_label("Prénom").fill(first_name)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Âge").fill(age)


def press(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()


def sign_the_charter(page: Page, comment: str = "") -> None:
    """The last question page, then the review page ("check your answers") and its button."""
    expect(heading(page)).to_have_text("Un dernier mot")
    if comment:
        page.get_by_label("Un mot pour l’équipe locale\u00a0?").fill(comment)
    page.get_by_label("J’accepte la charte des bénévoles").check()
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Vérifiez vos réponses")
    if comment:
        expect(page.locator("main")).to_contain_text(comment)
    press(page, "Je deviens bénévole")


def licence(page: Page) -> Locator:
    return page.get_by_label("J’ai le permis de conduire")


def error_summary(page: Page) -> Locator:
    return page.get_by_role("alert")


def open_mailbox(page: Page, messages: int = 1) -> Locator:
    """The development mailbox's message rows, once it lists ``messages``: account mail (an activation link) is
    composed just after the answer that caused it, not before (engagement/outbox.py, DETACHED)."""
    for _ in range(50):
        page.goto("/dev/mailbox")
        rows = page.get_by_role("row").filter(has=page.get_by_role("link"))  # a message's subject is its link
        if rows.count() >= messages:
            break
        page.wait_for_timeout(100)
    return rows


def expect_single_welcome_mail(page: Page, first_name: str, address: str) -> None:
    """The development mailbox holds exactly one message: the French welcome to ``address``."""
    page.goto("/dev/mailbox")
    rows = page.get_by_role("row").filter(has=page.get_by_role("cell"))
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(address)
    expect(rows).to_contain_text(f"Bienvenue parmi les bénévoles, {first_name}\u00a0!")
