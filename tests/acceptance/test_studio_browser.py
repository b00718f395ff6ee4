"""The workflow studio in a real browser: an organizer uploads a bad file, reads the diagnostics at
their lines, fixes the text in the page, publishes it, sees its diagram drawn, and the flow runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from engagement.accounts import scopes
from engagement.accounts.models import User
from engagement.config import Settings
from engagement.db import make_engine, make_session_factory, transaction, utcnow
from tests.acceptance.test_invitation_browser import create_member, log_in

BAD_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "bad" / "unknown_dest.yml"


def create_organizer(settings: Settings, email: str) -> None:
    create_member(settings, "Olivia", "Orga", email)
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            session.execute(update(User).where(User.email == email).values(role="organizer"))
            user = session.scalars(select(User).where(User.email == email)).one()
            scopes.grant(session, user, "national", actor=None, now=utcnow())  # the studio is national
    finally:
        engine.dispose()


@pytest.mark.browser
def test_an_organizer_uploads_fixes_publishes_and_the_flow_runs(
        page: Page, settings: Settings, fired: Callable[[], list[tuple[str, str, str]]]) -> None:
    create_organizer(settings, "olivia@example.org")
    log_in(page, "olivia@example.org")
    page.goto("/organizer/workflows/")
    expect(page.locator('tr[data-workflow="volunteer"]')).to_be_visible()

    page.goto("/organizer/workflows/editor")
    page.locator("#upload").set_input_files(str(BAD_FILE))
    page.locator('button[name="action"][value="check"]').click()

    summary = page.locator("#diagnostics")
    expect(summary).to_contain_text("état inconnu 'nowhere'")  # the checker's message, in the page's French
    diagnostic = page.locator('tr.diagnostic[data-line="13"]')
    expect(diagnostic).to_have_attribute("data-column", "40")
    expect(diagnostic).to_contain_text("colonne 40\u00a0: erreur\u00a0: état inconnu 'nowhere'")
    expect(page.locator("#L13")).to_contain_text("dest: nowhere")
    summary.get_by_role("link").first.click()
    expect(page).to_have_url(page.url.split("#")[0] + "#d0")
    source = page.locator("#source")
    expect(source).to_have_value(BAD_FILE.read_text(encoding="utf-8"))

    source.fill(source.input_value().replace("dest: nowhere", "dest: done"))
    page.locator('button[name="action"][value="publish"]').click()
    expect(page.locator("#in-progress")).to_contain_text("Aucune instance en cours")  # the confirmation first
    page.locator('#confirm-form button[name="action"][value="publish"]').click()

    expect(page).to_have_url(f"{page.url.split('/organizer')[0]}/organizer/workflows/sample")
    expect(page.locator('#versions tr[data-version="1"] td[data-active="yes"]')).to_be_visible()
    expect(page.locator("pre.mermaid svg")).to_be_visible()  # drawn by the vendored Mermaid

    page.goto("/w/sample")
    form = page.locator('form[data-state="ask"]')
    expect(form).to_be_visible()
    form.locator('[name="age"]').fill("30")
    form.locator('button[name="trigger"][value="next"]').click()
    expect(page.locator('h1[data-state="done"]')).to_be_visible()
    assert fired() == [("ask", "done", "next")]
