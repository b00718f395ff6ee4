"""Pages as a French reader gets them: the apostrophe ’ and a no-break space before : ; ! ? and inside « ».

Every visible text node and every shown attribute (title, placeholder, aria-label, alt) of the pages a
visitor and a member reach is held to tools/typography.py's rules, whatever template, message or workflow
file the words come from.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.functional.invitation_steps import log_in, make_user
from tests.unit.test_typography import typography_tool

SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
PUBLIC_PAGES = ("/", "/login", "/password/reset", "/account/activate/resend", "/events", "/committees",
                "/w/signup", "/w/volunteer", "/w/invitation", "/search", "/page-that-does-not-exist")
MEMBER_PAGES = ("/account", "/account/edit", "/committees/new")


class ShownText(HTMLParser):
    """The texts a reader sees: text nodes outside script and style, and the shown attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        self.texts += [value for name, value in attrs if name in SHOWN_ATTRIBUTES and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip(" \t\r\n"):
            self.texts.append(re.sub(r"[ \t\r\n]+", " ", data.strip(" \t\r\n")))  # no-break spaces kept


def badly_set(html: str) -> list[str]:
    """The shown texts of ``html`` that French typography would change."""
    parser = ShownText()
    parser.feed(html)
    tool = typography_tool()
    return [text for text in parser.texts if tool.fix(text) != text or tool.straight_quotes_left(text)]


@pytest.fixture
def french(client):
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    return client


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_a_visitor_reads_french_typography(french, url):
    french.get(url, follow_redirects=True)

    assert badly_set(french.last_html) == []


def test_a_member_reads_french_typography(app, french):
    make_user(app, "membre@example.org")
    log_in(french, "membre@example.org")

    for url in MEMBER_PAGES:
        french.get(url, follow_redirects=True)
        assert badly_set(french.last_html) == [], url


def test_the_login_page_says_it_the_french_way(french):
    page = french.get("/login").get_data(as_text=True)

    assert "Mot de passe oublié\u00a0?" in page and "Mail d’activation non reçu\u00a0?" in page
    assert "oublié ?" not in page and "d'activation" not in page


def test_demo_events_typed_before_the_typography_are_not_created_again(app, read):
    """A demo database loaded when names had ' and plain spaces keeps its events at the next `demo load`."""
    from sqlalchemy import func, select

    from engagement import demo_events
    from engagement.db import transaction, utcnow
    from engagement.events.models import Event

    sessions = app.extensions["engagement"].sessions
    with transaction(sessions) as session:
        demo_events.load(session, utcnow())
        for event in session.scalars(select(Event)):
            event.name = event.name.replace("\u2019", "'").replace("\u00a0", " ")
    with transaction(sessions) as session:
        again = demo_events.load(session, utcnow())

    assert again == ["committees and events: unchanged"]
    assert read().scalar(select(func.count()).select_from(Event)) == len(demo_events._events(utcnow(), {}))


def test_a_french_mail_subject_keeps_its_no_break_space(app, read):
    """Subjects are put on one line for their header: a no-break space is not a line's whitespace."""
    from tests.functional.test_event_registration import create_event, mails

    create_event(app, "Atelier d’écriture", taken=1)  # seat0@ registered, in French

    [message] = mails(read())
    assert message.subject == "Inscription confirmée\u00a0: Atelier d’écriture"
