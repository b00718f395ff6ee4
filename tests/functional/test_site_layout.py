"""The layout's parts kept per process (web/templating.py's ``site_parts``, web/notices.py's privacy notices): each
reader gets the header of their own role and language, and what is personal (the log-out form's CSRF token) is
still theirs, rendered at each request."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import FormClient
from tests.functional.conftest import CheckedClient, _own_address
from tests.functional.helpers import text
from tests.functional.invitation_steps import log_in, make_user
from tests.functional.test_event_registration import create_event


def header(page: str) -> str:
    found = re.search(r'<header class="site">(.*?)</header>', page, re.S)
    assert found is not None
    return found.group(1)


def logout_token(page: str) -> str:
    found = re.search(r'action="/logout" class="inline">\s*<input type="hidden" name="csrf_token" value="([^"]+)"',
                      page)
    assert found is not None
    return found.group(1)


def other_client(app: Any) -> CheckedClient:
    return CheckedClient(_own_address(FormClient(app.test_client())))


def english(client: Any, page: str = "/account") -> None:
    client.client.post("/lang", data={"lang": "en", "next": page})


def test_the_header_follows_each_reader_s_role_and_language(app, client):
    visitor = other_client(app)
    visitor.get("/events")
    assert 'href="/account"' not in header(visitor.last_html) and "/login?next=" in header(visitor.last_html)
    make_user(app, "membre@example.org")
    log_in(client, "membre@example.org")
    client.get("/account")
    mine = header(client.last_html)
    assert 'href="/account"' in mine and 'href="/organizer/"' not in mine and "/login?next=" not in mine
    organizer = other_client(app)
    make_user(app, "orga@example.org", role="organizer")
    log_in(organizer, "orga@example.org")
    organizer.get("/account")
    assert 'href="/organizer/"' in header(organizer.last_html)
    english(client)
    client.get("/account")
    assert ">My account</a>" in header(client.last_html) and ">My account</a>" not in mine
    assert 'lang="en"' in client.last_html.split(">", 2)[1] and 'href="/organizer/"' not in header(client.last_html)
    visitor.get("/events")
    assert 'href="/account"' not in header(visitor.last_html)  # a member's header never shown to a visitor


def test_the_log_out_form_carries_each_session_s_own_token(app, client):
    make_user(app, "un@example.org")
    make_user(app, "deux@example.org")
    second = other_client(app)
    log_in(client, "un@example.org")
    log_in(second, "deux@example.org")
    client.get("/account")
    second.get("/account")
    first_token, second_token = logout_token(client.last_html), logout_token(second.last_html)
    assert first_token != second_token
    assert client.client.post("/logout", data={"csrf_token": first_token}).status_code in (302, 303)
    assert client.get("/account", follow_redirects=True).status_code == 200
    assert "/login?next=" in header(client.last_html)  # logged out: the visitor's header again


def test_an_event_s_privacy_notice_is_in_the_reader_s_language(app, client):
    slug = create_event(app, "Réunion de la notice")
    make_user(app, "membre@example.org")
    log_in(client, "membre@example.org")
    client.get(f"/events/{slug}")
    french = text(client.last_html)
    assert 'data-testid="privacy-notice"' in client.last_html and "Your personal data:" not in french
    english(client, f"/events/{slug}")
    client.get(f"/events/{slug}")
    assert "Your personal data:" in text(client.last_html)


def test_the_account_page_links_each_place_and_committee_as_url_for_builds_them(app, client):
    from flask import url_for

    slug = create_event(app, "Réunion liée")
    make_user(app, "membre@example.org")
    log_in(client, "membre@example.org")
    client.get(f"/events/{slug}")
    assert client.post(f"/events/{slug}/places").status_code == 303
    client.get("/account")
    with app.test_request_context():
        expected = url_for("events.detail", slug=slug)
    assert f'<a href="{expected}">Réunion liée</a>' in client.last_html


def test_the_account_page_s_delete_box_is_the_form_s_own_in_each_language(app, client):
    from web.auth.account import DeleteForm

    make_user(app, "membre@example.org")
    log_in(client, "membre@example.org")
    for locale, label in (("fr", "Je comprends que mon compte"), ("en", "I understand that my account")):
        if locale == "en":
            english(client)
        client.get("/account")
        with app.test_request_context(headers={"Cookie": f"lang={locale}"}):
            form = DeleteForm(formdata=None)
            expected = f"{form.confirm(value='y')} {form.confirm.label()}"
        assert f'<div class="check">{expected}</div>' in client.last_html and label in expected
        page = client.last_html.split('action="/account/delete"')[1]
        assert client.hidden("csrf_token", page) == logout_token(client.last_html)  # this session's token
    response = client.post("/account/delete", {}, page="/account")
    assert response.status_code == 422 and "has-error" in client.last_html
