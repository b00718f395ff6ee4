"""The organizer's, the analyst's and the admin's pages on a phone (390x844): none is wider than the screen.
A wide table scrolls inside its own box (.table-wrap); the page itself never scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from engagement.config import Settings
from tests.acceptance.test_analyst_dashboard_browser import create_with_role, phone, width
from tests.acceptance.test_invitation_browser import log_in

ORGANIZER_PAGES = ("/organizer/", "/organizer/events", "/organizer/events/new", "/organizer/campaigns",
                   "/organizer/campaigns/new", "/organizer/media", "/organizer/invitation", "/organizer/audiences",
                   "/organizer/committees", "/organizer/pages", "/organizer/workflows/",
                   "/organizer/workflows/signup", "/organizer/workflows/help")
ANALYST_PAGES = ("/analyst/workflows/", "/analyst/explorer", "/analyst/workflows/signup",
                 "/analyst/workflows/signup/instances")


@pytest.mark.browser
@pytest.mark.parametrize(("role", "paths"), [("organizer", ORGANIZER_PAGES), ("analyst", ANALYST_PAGES)])
def test_no_page_of_the_back_office_scrolls_sideways_on_a_phone(browser: Browser, live_server: str,
                                                                settings: Settings, role: str,
                                                                paths: tuple[str, ...]) -> None:
    create_with_role(settings, f"{role}@example.org", role)
    page = phone(browser, live_server)
    try:
        log_in(page, f"{role}@example.org")
        too_wide = {}
        for path in paths:
            response = page.goto(path)
            assert response is not None and response.status == 200, path
            if width(page) > 390:
                too_wide[path] = width(page)
        assert too_wide == {}
    finally:
        page.context.close()
