"""A member's event page on a phone (390x844): one click takes the seat, the page says so, and the place is
given up after a confirmation; a full event's waitlist in one click, with the position; /account lists both, and
its latest invitations with a link to all of them.
Screenshots at 390x844 and 1280x900 land in tests/acceptance/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy import select

from engagement.accounts.models import User
from engagement.config import Settings
from engagement.db import make_engine, make_session_factory, transaction, utcnow
from engagement.invitations.models import Invitation
from tests.acceptance.conftest import TIMEOUT_MS
from tests.acceptance.steps import heading
from tests.acceptance.test_event_browser import create_event, stored
from tests.acceptance.test_invitation_browser import PASSWORD, create_member

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport=PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def shoot(page: Page, artifacts: Path, name: str) -> None:
    """The page at the phone's size, then at a desktop's (and back to the phone)."""
    page.screenshot(path=str(artifacts / f"{name}-390x844.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(artifacts / f"{name}-1280x900.png"), full_page=True)
    page.set_viewport_size(PHONE)


def log_in(page: Page, next_path: str) -> None:
    page.goto(f"/login?next={next_path}")
    page.get_by_label("Adresse e-mail").fill("dominique@example.org")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


@pytest.mark.browser
def test_a_member_registers_sees_it_and_gives_the_place_up_on_a_phone(phone: Page, settings: Settings,
                                                                      artifacts: Path) -> None:
    page = phone
    slug = create_event(settings, "Réunion publique\u00a0: l’école de demain", capacity=40)
    create_member(settings, "Dominique", "Durand", "dominique@example.org")
    log_in(page, f"/events/{slug}")
    expect(heading(page)).to_have_text("Réunion publique\u00a0: l’école de demain")
    expect(page.get_by_test_id("my-place")).to_have_count(0)
    page.get_by_role("button", name="S’inscrire").click()

    panel = page.get_by_test_id("my-place")
    expect(panel).to_contain_text("Vous êtes inscrit·e")
    expect(page.get_by_role("button", name="S’inscrire")).to_have_count(0)
    expect(page.get_by_text("places restantes")).to_have_count(0)  # a seat count is no call to them any more
    give_up = panel.get_by_role("link", name="Libérer ma place")
    box = give_up.bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    shoot(page, artifacts, "member-event-registered")

    give_up.click()
    expect(heading(page)).to_have_text("Libérer votre place\u00a0?")
    shoot(page, artifacts, "member-event-give-up")
    page.get_by_role("button", name="Libérer ma place").click()
    expect(heading(page)).to_have_text("Réunion publique\u00a0: l’école de demain")
    expect(page.get_by_text("Votre place est libérée")).to_be_visible()
    expect(page.get_by_test_id("my-place")).to_have_count(0)
    expect(page.get_by_text("40 places restantes")).to_be_visible()
    rows, _mails = stored(settings)
    assert rows == [("dominique@example.org", "cancelled")]


@pytest.mark.browser
def test_a_full_event_s_waitlist_in_one_click_then_the_account_lists_it(phone: Page, settings: Settings,
                                                                         artifacts: Path) -> None:
    page = phone
    full = create_event(settings, "Atelier prise de parole", capacity=1)
    open_one = create_event(settings, "Apéro militant", capacity=30)
    create_member(settings, "Camille", "Martin", "camille@example.org")
    create_member(settings, "Dominique", "Durand", "dominique@example.org")
    page.goto(f"/login?next=/events/{full}")
    page.get_by_label("Adresse e-mail").fill("camille@example.org")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="S’inscrire").click()
    page.context.clear_cookies()

    log_in(page, f"/events/{full}")
    expect(page.get_by_text("Complet", exact=True)).to_have_count(0)
    join = page.get_by_role("button", name="Rejoindre la liste d’attente")
    expect(join).to_have_count(1)
    join.click()  # the one click
    expect(page.get_by_test_id("my-place")).to_contain_text("Vous êtes sur liste d’attente (position 1)")
    shoot(page, artifacts, "member-event-waitlisted")

    page.goto(f"/events/{open_one}")
    page.get_by_role("button", name="S’inscrire").click()
    page.goto("/account")
    expect(page.get_by_test_id("my-events")).to_contain_text("Apéro militant")
    expect(page.get_by_test_id("my-waitlists")).to_contain_text("Atelier prise de parole")
    expect(page.get_by_test_id("my-waitlists")).to_contain_text("position 1")
    shoot(page, artifacts, "member-account")
    page.get_by_test_id("my-waitlists").get_by_role("link", name="Atelier prise de parole").click()
    expect(heading(page)).to_have_text("Atelier prise de parole")


def _invitations(settings: Settings, email: str, count: int) -> None:
    """``count`` invitations sent by ``email``'s account, one a day, the latest today."""
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            user = session.scalar(select(User).where(User.email == email))
            assert user is not None
            for number in range(count):
                session.add(Invitation(inviter_id=user.id, sender_first_name="Dominique", sender_last_name="Durand",
                                       sender_email=email, friend_first_name=f"Ami{number + 1}",
                                       friend_email=f"ami{number + 1}@example.org", answers={}, subject="Viens",
                                       body="…", locale="fr", created_at=utcnow() - timedelta(days=number)))
    finally:
        engine.dispose()


@pytest.mark.browser
def test_the_account_page_lists_the_latest_invitations_and_links_to_all_of_them(phone: Page, settings: Settings,
                                                                                  artifacts: Path) -> None:
    page = phone
    create_member(settings, "Dominique", "Durand", "dominique@example.org")
    _invitations(settings, "dominique@example.org", 12)
    log_in(page, "/account")
    invitations = page.get_by_test_id("my-invitations")
    expect(invitations.locator("li")).to_have_count(10)
    expect(invitations).to_contain_text("Ami1")
    expect(invitations).not_to_contain_text("Ami12")
    page.get_by_role("link", name="Voir toutes mes invitations (12)").click()
    expect(heading(page)).to_have_text("Mes invitations")
    expect(page.get_by_test_id("my-invitations").locator("li")).to_have_count(12)
    shoot(page, artifacts, "member-invitations-all")
    page.get_by_role("link", name="Retour à mon compte").click()
    expect(heading(page)).to_have_text("Mon compte")
