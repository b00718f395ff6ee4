"""Campaigns in a real browser: an organizer composes, previews (the mail as a real recipient gets
it), confirms the number of recipients and sends, on a phone and without JavaScript (screenshots of
the preview and the confirmation at 390x844 and 1280x900 in tests/acceptance/artifacts/); and the
campaign page follows a sending in progress by itself, with and without JavaScript."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import insert, select, update

from engagement.accounts import scopes
from engagement.accounts.models import User
from engagement.campaigns.models import Campaign
from engagement.config import Settings
from engagement.db import make_engine, make_session_factory, transaction, utcnow
from engagement.mail.models import MailMessage
from tests.acceptance.steps import heading, press
from tests.acceptance.test_invitation_browser import create_member, log_in

PARIS = {"street": "12 rue de Rivoli", "postal_code": "75004", "city": "75104",
         "city_name": "Paris 4e Arrondissement", "country": "FR"}
MEMBERS = 30


def create_organizer_and_members(settings: Settings) -> None:
    create_member(settings, "Claire", "Dupont", "claire@example.org")
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            session.execute(update(User).where(User.email == "claire@example.org").values(role="organizer"))
            claire = session.scalars(select(User).where(User.email == "claire@example.org")).one()
            scopes.grant(session, claire, "national", actor=None, now=utcnow())
            session.add_all([User(email=f"membre{n}@example.org", first_name="Camille", last_name=f"Membre {n}",
                                  activated_at=utcnow(), address=dict(PARIS)) for n in range(MEMBERS)])
    finally:
        engine.dispose()


def campaign_in_progress(settings: Settings) -> int:
    """A campaign whose 30 messages are written and still queued (its worker is slow)."""
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            campaign = Campaign(audience="department:75", audience_label="Paris (75)", subject="Samedi au marché",
                                body="Rendez-vous samedi.", status="sending", recipients=MEMBERS, expanded=MEMBERS,
                                cursor=MEMBERS, expanded_at=utcnow())
            session.add(campaign)
            session.flush()
            session.execute(insert(MailMessage), [
                {"sender": "Engagement <ne-pas-repondre@engagement.local>", "to": [f"membre{n}@example.org"],
                 "cc": [], "subject": "Samedi au marché", "text_body": "", "stream": "campaign", "status": "queued",
                 "campaign_id": campaign.id, "audience_key": n + 1, "created_at": utcnow(), "attempts": 0}
                for n in range(MEMBERS)])
            return campaign.id
    finally:
        engine.dispose()


def worker_sends(settings: Settings, campaign_id: int) -> None:
    """What the worker does, all at once: every message sent, the campaign done."""
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            session.execute(update(MailMessage).where(MailMessage.campaign_id == campaign_id)
                            .values(status="sent", sent_at=utcnow()))
            session.execute(update(Campaign).where(Campaign.id == campaign_id)
                            .values(status="done", finished_at=utcnow()))
    finally:
        engine.dispose()


def compose_to_paris(page: Page) -> None:
    page.goto("/organizer/campaigns/new")
    expect(heading(page)).to_have_text("Écrire une campagne")
    expect(page.get_by_label("Destinataires")).to_have_value("")  # nobody chosen for the organizer
    page.get_by_label("Destinataires").select_option("department:75")
    page.get_by_label("Objet").fill("Samedi au marché")
    page.get_by_label("Message").fill("Bonjour {{ first_name }},\n\nRendez-vous samedi à 10 h devant la mairie.")
    press(page, "Aperçu")


def check_the_preview(page: Page) -> None:
    expect(heading(page)).to_have_text("Vérifier le message")
    expect(page.get_by_test_id("recipients")).to_have_text(f"{MEMBERS} personnes")
    text = page.get_by_test_id("preview-text")
    expect(text).to_contain_text("Bonjour Camille,")  # the first recipient's own first name
    expect(text).to_contain_text("Rendez-vous samedi à 10 h devant la mairie.")
    expect(text).to_contain_text("Pour ne plus recevoir ces messages\u00a0: http")
    expect(page.get_by_role("heading", level=2)).to_contain_text("membre0@example.org")


def confirm_and_send(page: Page) -> None:
    expect(heading(page)).to_have_text("Confirmer l’envoi")
    expect(page.get_by_test_id("count")).to_contain_text(f"{MEMBERS} personnes")
    expect(page.get_by_test_id("audience")).to_have_text("Département\u00a0: Paris (75)")
    press(page, f"Envoyer à {MEMBERS} personnes")  # without the box ticked: refused, nothing sent
    expect(page.locator("#confirm-error")).to_be_visible()
    page.get_by_label(f"Oui, envoyer ce message aux {MEMBERS} personnes du public").check()
    press(page, f"Envoyer à {MEMBERS} personnes")
    expect(heading(page)).to_have_text("Samedi au marché")
    expect(page).to_have_url(re.compile(r"/organizer/campaigns/\d+$"))
    # The embedded server sends on its background thread; the page reloads itself until it is done.
    expect(page.get_by_test_id("progress")).to_contain_text(f"{MEMBERS} / {MEMBERS}", timeout=15_000)
    expect(page.get_by_test_id("campaign-status")).to_have_attribute("data-status", "done")


def fits(page: Page, width: int) -> None:
    scroll = int(page.evaluate("document.documentElement.scrollWidth"))
    assert scroll <= width, f"the page scrolls sideways ({scroll}px)"


@pytest.mark.browser
def test_an_organizer_previews_confirms_and_sends_a_campaign_without_javascript(page_without_js: Page,
                                                                                settings: Settings) -> None:
    page = page_without_js
    create_organizer_and_members(settings)
    log_in(page, "claire@example.org")
    compose_to_paris(page)
    check_the_preview(page)
    page.get_by_role("link", name="Modifier le message").click()
    expect(page.get_by_label("Objet")).to_have_value("Samedi au marché")  # the draft comes back as typed
    press(page, "Aperçu")
    page.get_by_role("link", name="Continuer vers la confirmation").click()
    confirm_and_send(page)


@pytest.mark.browser
def test_compose_preview_confirm_and_send_on_a_phone(browser: Browser, live_server: str, settings: Settings,
                                                     artifacts: Path) -> None:
    create_organizer_and_members(settings)
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        log_in(page, "claire@example.org")
        compose_to_paris(page)
        check_the_preview(page)
        press(page, "M’envoyer un test")
        expect(page.locator(".notice").first).to_contain_text("claire@example.org")
        for size in ({"width": 390, "height": 844}, {"width": 1280, "height": 900}):
            page.set_viewport_size(size)
            fits(page, size["width"])
            page.screenshot(path=str(artifacts / f"campaign-preview-{size['width']}x{size['height']}.png"),
                            full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.get_by_role("link", name="Continuer vers la confirmation").click()
        for size in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
            page.set_viewport_size(size)
            fits(page, size["width"])
            page.screenshot(path=str(artifacts / f"campaign-confirm-{size['width']}x{size['height']}.png"),
                            full_page=True)
        box = page.get_by_role("button", name=f"Envoyer à {MEMBERS} personnes").bounding_box()
        assert box and box["height"] >= 44
        confirm_and_send(page)
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [False, True], ids=["refresh-without-javascript", "polling-with-javascript"])
def test_the_campaign_page_follows_the_sending_by_itself(browser, live_server: str, settings: Settings,
                                                        javascript: bool) -> None:
    create_organizer_and_members(settings)
    campaign_id = campaign_in_progress(settings)
    context = browser.new_context(base_url=live_server, locale="fr-FR", java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        log_in(page, "claire@example.org")
        page.goto(f"/organizer/campaigns/{campaign_id}")
        progress = page.get_by_test_id("progress")
        expect(progress).to_contain_text(f"0 / {MEMBERS}")
        expect(progress).to_contain_text("(cette page se met à jour toute seule)")
        expect(page.locator("progress")).to_have_attribute("value", "0")
        worker_sends(settings, campaign_id)
        expect(progress).to_contain_text(f"{MEMBERS} / {MEMBERS}", timeout=15_000)  # nobody pressed anything
        expect(page.locator("progress")).to_have_attribute("value", "100")
        expect(page.locator('[data-status-count="sent"]')).to_have_text(str(MEMBERS))
    finally:
        context.close()
