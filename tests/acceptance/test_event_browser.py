"""Events in a real browser: finding one, registering without JavaScript, a member's one click, the waitlist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engagement.config import Settings
from engagement.db import make_engine, make_session_factory, transaction
from engagement.events import service
from engagement.events.models import EventRegistration
from engagement.events.service import EventInput
from engagement.mail.models import MailMessage
from tests.acceptance.steps import heading, press
from tests.acceptance.test_invitation_browser import PASSWORD, create_member

PARIS = {"street": "12 rue de Rivoli", "postal_code": "75004", "city": "75104",
         "city_name": "Paris 4e Arrondissement", "country": "FR"}


def create_event(settings: Settings, name: str, capacity: int | None) -> str:
    now = datetime.now(UTC)
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            event = service.create(session, EventInput(
                name, "Ouvert à toutes et à tous.", now + timedelta(days=3), now + timedelta(days=3, hours=2),
                address=PARIS, capacity=capacity, category="meeting"), None, now)
            return event.slug
    finally:
        engine.dispose()


def stored(settings: Settings) -> tuple[list[tuple[str, str]], list[tuple[list[str], str, list[str]]]]:
    """(email, status) of every registration; (to, subject, attachment names) of every mail."""
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            registrations = session.scalars(select(EventRegistration).order_by(EventRegistration.id))
            rows = [(r.email, r.status) for r in registrations]
            mails = [(list(m.to), m.subject, [a["filename"] for a in m.attachments or []])
                     for m in session.scalars(select(MailMessage).order_by(MailMessage.id))]
            return rows, mails
    finally:
        engine.dispose()


@pytest.mark.browser
def test_a_visitor_finds_an_event_and_registers_without_javascript(page_without_js: Page, settings: Settings) -> None:
    page = page_without_js
    slug = create_event(settings, "Réunion publique sur l'école", capacity=10)
    page.goto("/events?postal_code=75004")
    page.get_by_role("link", name="Réunion publique sur l'école").click()
    expect(heading(page)).to_have_text("Réunion publique sur l'école")
    expect(page.get_by_text("10 places restantes")).to_be_visible()
    page.get_by_role("link", name="S’inscrire").click()

    expect(page.locator("form[data-state=details]")).to_be_visible()
    expect(page.locator(".subtitle")).to_have_text("Réunion publique sur l'école")
    press(page, "Je m’inscris")
    expect(page.get_by_role("alert")).to_contain_text("Il y a 4 problèmes")  # first and last name, email, terms
    page.get_by_label("Prénom").fill("Camille")
    page.get_by_label("Nom", exact=True).fill("Martin")
    page.get_by_label("Adresse e-mail").fill("camille@example.org")
    page.get_by_label("J’accepte que mes coordonnées soient transmises").check()
    press(page, "Je m’inscris")

    expect(heading(page)).to_have_text("Vous êtes inscrit\u00a0!")
    rows, mails = stored(settings)
    assert rows == [("camille@example.org", "registered")]
    subject = "Inscription confirmée\u00a0: Réunion publique sur l'école"  # the name as the organizer typed it
    assert mails == [(["camille@example.org"], subject, [f"{slug}.ics"])]


@pytest.mark.browser
def test_a_member_registers_in_one_click_and_the_next_one_is_offered_the_waitlist(
        page: Page, settings: Settings) -> None:
    slug = create_event(settings, "Porte-à-porte du samedi", capacity=1)
    create_member(settings, "Dominique", "Durand", "dominique@example.org")
    page.goto(f"/login?next=/events/{slug}")
    page.get_by_label("Adresse e-mail").fill("dominique@example.org")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(heading(page)).to_have_text("Porte-à-porte du samedi")
    page.get_by_role("button", name="S’inscrire").click()  # the one click: the event's page says the rest
    expect(heading(page)).to_have_text("Porte-à-porte du samedi")
    expect(page.get_by_test_id("my-place")).to_contain_text("Vous êtes inscrit·e")
    page.context.clear_cookies()
    page.goto(f"/events/{slug}")
    expect(page.get_by_text("Complet\u00a0: vous pouvez rejoindre la liste d’attente")).to_be_visible()
    page.goto(f"/events/{slug}/register")
    page.get_by_label("Prénom").fill("Sam")
    page.get_by_label("Nom", exact=True).fill("Petit")
    page.get_by_label("Adresse e-mail").fill("sam@example.org")
    page.get_by_label("J’accepte que mes coordonnées soient transmises").check()
    press(page, "Je m’inscris")
    expect(heading(page)).to_have_text("L’événement est complet")
    press(page, "Rejoindre la liste d’attente")
    expect(heading(page)).to_have_text("Vous êtes sur la liste d’attente")
    rows, _mails = stored(settings)
    assert rows == [("dominique@example.org", "registered"), ("sam@example.org", "waitlisted")]
