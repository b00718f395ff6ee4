"""The confirmation pages on a phone (390x844), in a real browser: each finished flow shows its panel and
links onward, no restart as the main button; screenshots go to tests/acceptance/artifacts/ for review."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from engagement.accounts.service import create_user
from engagement.committees import service as committees
from engagement.db import transaction, utcnow
from engagement.events import service as events
from tests.acceptance.steps import open_mailbox
from tests.functional.invitation_steps import FRIEND, INTERESTS, PROJECT, REASONS, SELF

PARIS_14 = {"street": "1 avenue du Maine", "postal_code": "75014", "city": "75114",
            "city_name": "Paris 14e Arrondissement", "country": "FR"}
SIGNUP = {
    "identity": {"first_name": "Camille", "last_name": "Martin", "email": "camille.martin@example.org",
                 "password": "une phrase de passe solide", "birth_date": "1990-05-17"},
    "home": {"address-street": "12 avenue de Versailles", "address-postal_code": "94320"},
    "topics": {"interests": ["ecology"]},
    "agreement": {"terms": True},
}
INVITATION = {"friend": FRIEND, "project": PROJECT, "interests": INTERESTS, "reasons": REASONS,
              "summary": {**SELF, "friend_email": "camille.lefevre@example.net"}}


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def answer(page: Page, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if value is True:
            page.locator(f'[name="{name}"]').check()
        elif isinstance(value, list):
            for choice in value:
                page.locator(f'[name="{name}"][value="{choice}"]').check()
        elif page.locator(f'select[name="{name}"]').count():
            page.locator(f'select[name="{name}"]').select_option(value)
        else:
            page.locator(f'[name="{name}"]').fill(value)


def finish(page: Page, url: str, answers: dict[str, dict[str, Any]]) -> None:
    """Answer each page by its data-state and press its main button, until the confirmation page."""
    page.goto(url)
    for _ in range(15):
        form = page.locator("form[data-state]")
        if not form.count():
            return
        answer(page, answers.get(form.get_attribute("data-state") or "", {}))
        form.locator("button.primary").click()
        page.wait_for_load_state()
    raise AssertionError("the flow did not end")


def shoot(page: Page, artifacts: Path, name: str) -> None:
    assert not page.locator("form[action$='/restart'] button.primary").count()
    expect(page.locator("h1")).to_be_visible()
    page.screenshot(path=str(artifacts / f"confirmation-{name}.png"), full_page=True)


def _arrange(factory: sessionmaker[Session]) -> str:
    now = utcnow().replace(microsecond=0)
    with transaction(factory) as session:
        host = create_user(session, "host@example.org")
        session.flush()
        row = committees.propose(session, name="Comité de Paris 14", description="", address=PARIS_14,
                                 creator_id=host.id, now=now)
        committees.decide(session, row, True, now)
        for days, name in ((3, "Porte-à-porte au marché d'Alésia"), (10, "Réunion publique sur le logement")):
            begins = now + timedelta(days=days)
            event = events.create(session, events.EventInput(
                name=name, description="", begins_at=begins, ends_at=begins + timedelta(hours=2),
                address=PARIS_14, capacity=30), organizer_id=None, now=now)
        return event.slug


@pytest.mark.browser
def test_every_confirmation_page_on_a_phone(phone: Page, live_server: str, factory: Any, artifacts: Path) -> None:
    slug = _arrange(factory)
    finish(phone, "/w/signup", SIGNUP)
    expect(phone.locator("h1")).to_have_text("Vérifiez votre boîte mail")
    expect(phone.locator(".confirmation strong")).to_have_text("camille.martin@example.org")
    shoot(phone, artifacts, "signup")

    open_mailbox(phone).get_by_role("link").first.click()
    found = re.search(r"/account/activate/[A-Za-z0-9_\-]+", phone.locator("pre.mail-body").inner_text())
    assert found
    phone.goto(found.group(0))
    expect(phone.get_by_text("Comité de Paris 14")).to_be_visible()
    shoot(phone, artifacts, "activated")

    finish(phone, "/w/invitation", INVITATION)
    expect(phone.locator(".confirmation strong")).to_have_text("camille.lefevre@example.net")
    shoot(phone, artifacts, "invitation")

    phone.goto(f"/events/{slug}/register")  # as a member now: one click
    finish(phone, "/w/event_registration", {})
    expect(phone.locator("h1")).to_have_text("Vous êtes inscrit\u00a0!")
    shoot(phone, artifacts, "event-registration")

    finish(phone, "/w/volunteer", {"identity": {"first_name": "Camille", "email": "c@example.org", "age": "30"},
                                   "availability": {"missions": ["events"]}, "summary": {"terms": True}})
    shoot(phone, artifacts, "volunteer")
