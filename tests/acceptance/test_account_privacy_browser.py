"""/account on a phone (390x844): withdrawing a consent is confirmed in view, next to that consent; pressing
"Supprimer mon compte" without the box ticked puts a focused error summary at the top, linking to the box; the
button itself is red. Screenshots land in tests/acceptance/artifacts/."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from engagement.accounts.service import create_user
from engagement.config import Settings
from engagement.db import make_engine, make_session_factory, transaction, utcnow
from engagement.privacy import consents
from tests.acceptance.test_invitation_browser import PASSWORD
from tests.acceptance.test_member_event_browser import PHONE, log_in, phone, shoot  # noqa: F401 - a fixture

EMAIL = "dominique@example.org"
FORMS = (  # (kind, words, linked page, where): what a member who joined, then volunteered, agreed to
    ("terms", "J’accepte les conditions d’adhésion", "/conditions-d-adhesion", "form:signup/agreement"),
    ("newsletter", "Je souhaite recevoir la lettre d’information", None, "form:signup/agreement"),
    ("charter", "J’ai lu et j’accepte la charte des bénévoles", "/charte-des-benevoles", "form:volunteer/summary"),
)


def member_with_consents(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            user = create_user(session, EMAIL, password=PASSWORD)
            user.first_name, user.last_name, user.has_newsletter = "Dominique", "Durand", True
            session.flush()
            for days, (kind, words, document, method) in enumerate(FORMS):
                consents.record(session, kind=kind, given=True, text=words, document=document, method=method,
                                locale="fr", now=utcnow() - timedelta(days=30 - days), user_id=user.id)
    finally:
        engine.dispose()


@pytest.mark.browser
def test_consents_and_the_delete_form_on_a_phone(phone: Page, settings: Settings,  # noqa: F811
                                                artifacts: Path) -> None:
    page = phone
    member_with_consents(settings)
    log_in(page, "/account")
    consents_list = page.get_by_test_id("my-consents")
    expect(consents_list.locator("li")).to_have_count(3)
    expect(consents_list).not_to_contain_text("Confirmez")
    shoot(page, artifacts, "account-consents")

    newsletter = page.locator("#consent-newsletter")
    newsletter.get_by_role("button", name="Retirer mon accord").click()
    expect(page).to_have_url(page.url.split("#")[0].split("/account")[0] + "/account#consent-newsletter")
    done = newsletter.get_by_role("status")
    expect(done).to_contain_text("Votre accord est retiré")
    expect(done).to_be_in_viewport()  # where the page landed, by the consent changed
    expect(page.get_by_role("status")).to_have_count(1)  # not at the top as well
    page.screenshot(path=str(artifacts / "account-consent-withdrawn-390x844.png"))

    delete = page.get_by_role("button", name="Supprimer mon compte")
    color = delete.evaluate("b => getComputedStyle(b).backgroundColor")
    assert color not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"), color  # filled: the warning button
    delete.click()
    expect(page).to_have_url(page.url.split("/account")[0] + "/account/delete")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Cochez la case pour confirmer.")
    expect(summary).to_be_in_viewport()
    expect(summary).to_be_focused()
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "account-delete-error-390x844.png"))
    summary.get_by_role("link", name="Cochez la case pour confirmer.").click()
    expect(page.get_by_role("checkbox")).to_be_in_viewport()
    page.screenshot(path=str(artifacts / "account-delete-error-box-390x844.png"))
