"""Public pages are cacheable for anonymous visitors and served again without Flask or the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, update

from engagement.committees.models import Committee
from engagement.db import transaction
from tests.functional.invitation_steps import log_in, make_user
from tests.functional.test_committees import committee

PUBLIC_PAGES = ["/", "/events", "/committees", "/search", "/events?page=2", "/search?type=event"]
PRIVATE_PAGES = ["/login", "/signup", "/w/volunteer", "/password/reset", "/search?q=paris"]


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    """The SQL the app sends meanwhile (the switch's own poll left out: it is not the page's)."""
    seen: list[str] = []
    engine = app.extensions["engagement"].engine

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if "site_switches" not in sql:
            seen.append(sql)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_a_public_page_is_public_for_an_anonymous_visitor(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"
    assert {"Cookie", "Accept-Language"} <= {v.strip() for v in response.headers["Vary"].split(",")}
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", PRIVATE_PAGES)
def test_pages_with_forms_stay_private(app, path):
    response = app.test_client().get(path, follow_redirects=True)
    assert response.status_code == 200
    assert "public" not in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"] or "no-store" in response.headers["Cache-Control"]


def test_the_second_visit_comes_from_the_cache_without_the_database(app):
    first = app.test_client().get("/events")
    with statements(app) as sql:
        second = app.test_client().get("/events")
    assert second.headers["X-Page-Cache"] == "hit" and "X-Page-Cache" not in first.headers
    assert sql == []
    assert second.get_data() == first.get_data()
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert int(second.headers["Age"]) >= 0 and second.headers["ETag"]


def test_a_known_etag_answers_304(app):
    client = app.test_client()
    client.get("/committees")
    etag = client.get("/committees").headers["ETag"]
    response = client.get("/committees", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.get_data() == b""


def test_head_is_served_from_the_cache_without_a_body(app):
    app.test_client().get("/")
    response = app.test_client().head("/")
    assert response.status_code == 200 and response.get_data() == b""
    assert response.headers["X-Page-Cache"] == "hit" and int(response.headers["Content-Length"]) > 1000


def test_each_language_has_its_own_copy(app):
    french = app.test_client().get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    english = app.test_client().get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    again = app.test_client().get("/", headers={"Accept-Language": "en"})
    assert '<html lang="fr">' in french.get_data(as_text=True)
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert again.headers["X-Page-Cache"] == "hit" and '<html lang="en">' in again.get_data(as_text=True)


def test_the_language_choice_is_a_cookie_and_pages_stay_cacheable(app):
    client = app.test_client()
    chosen = client.post("/lang", data={"lang": "en", "next": "/events"})
    assert chosen.status_code == 303 and chosen.headers["Location"] == "/events"
    cookies = chosen.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith("lang=en;") and "HttpOnly" in cookies[0]
    page = client.get("/events", headers={"Accept-Language": "fr"})
    assert '<html lang="en">' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"].startswith("public") and "Set-Cookie" not in page.headers


def test_arguments_a_page_does_not_declare_are_dropped_before_it_renders(app):
    probe = "zz-not-in-any-page"
    response = app.test_client().get(f"/events?page=1&utm_source={probe}")
    assert probe not in response.get_data(as_text=True)
    again = app.test_client().get(f"/events?utm_source=other&page=1&{probe}=1")
    assert again.headers["X-Page-Cache"] == "hit"


def test_a_signed_in_visitor_never_gets_the_anonymous_copy(app, client):
    make_user(app, "member@example.org")
    app.test_client().get("/")
    assert app.test_client().get("/").headers["X-Page-Cache"] == "hit"  # the anonymous copy is kept
    log_in(client, "member@example.org")
    response = client.get("/")
    assert "X-Page-Cache" not in response.headers and response.headers["Cache-Control"] == "private, no-cache"
    assert 'action="/logout"' in response.get_data(as_text=True)


def test_a_change_no_tag_covers_shows_once_the_copy_expires(app):
    """A write the tags do not see (a bulk UPDATE, not a changed row of the session: engagement.generations)
    waits for the copy to expire, as every page did before tags."""
    host = make_user(app, "host@example.org")
    slug = committee(app, "Lyon Presqu'île", host)
    assert "Lyon Presqu" in app.test_client().get("/committees").get_data(as_text=True)
    with transaction(app.extensions["engagement"].sessions) as session:
        session.execute(update(Committee).where(Committee.slug == slug).values(name="Lyon Croix-Rousse"))
    assert "Croix-Rousse" not in app.test_client().get("/committees").get_data(as_text=True)  # kept, for 60 s
    app.extensions["page_cache"].store.clear()  # what the 60 seconds do
    assert "Croix-Rousse" in app.test_client().get("/committees").get_data(as_text=True)


def test_the_cache_failing_renders_the_page(app, monkeypatch):
    store = app.extensions["page_cache"].store

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(store.backend, "get", broken)
    monkeypatch.setattr(store.backend, "set", broken)
    response = app.test_client().get("/events")
    assert response.status_code == 200 and "X-Page-Cache" not in response.headers
    assert store.breaker.is_open


def test_a_visitor_with_a_session_gets_a_private_page(app):
    client = app.test_client()
    client.get("/w/volunteer")  # a session now exists
    response = client.get("/events")
    assert "X-Page-Cache" not in response.headers and response.headers["Cache-Control"] == "private, no-cache"


def test_an_event_s_calendar_file_is_public_too(app):
    from tests.functional.test_event_registration import create_event

    slug = create_event(app)
    first = app.test_client().get(f"/events/{slug}.ics")
    second = app.test_client().get(f"/events/{slug}.ics")
    assert first.status_code == 200 and first.mimetype == "text/calendar"
    assert first.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"
    assert second.headers["X-Page-Cache"] == "hit" and second.get_data() == first.get_data()
    assert second.headers["Content-Disposition"] == first.headers["Content-Disposition"]


MADE_UP = {"ill-formed": "made-up", "well-formed": "Q" * 43}  # the second looks like an id the store issues


def bogus_visitor(app: Any, sid: str) -> Any:
    visitor = app.test_client()
    visitor.set_cookie("engagement_session", sid)
    return visitor


def assert_cleared(response: Any) -> None:
    """The answer tells the browser to drop its session cookie, and no shared cache may keep it."""
    [cookie] = response.headers.getlist("Set-Cookie")
    assert cookie.startswith("engagement_session=;") and "Max-Age=0" in cookie and "Path=/" in cookie
    assert response.headers["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize("sid", MADE_UP.values(), ids=MADE_UP.keys())
def test_a_made_up_session_cookie_gets_the_cached_page_and_is_cleared(app, sid):
    first = app.test_client().get("/")
    visitor = bogus_visitor(app, sid)
    with statements(app) as sql:
        response = visitor.get("/")
    assert response.headers["X-Page-Cache"] == "hit" and response.get_data() == first.get_data()
    assert_cleared(response)
    assert visitor.get_cookie("engagement_session") is None  # the browser dropped it
    lookups = [statement for statement in sql if not statement.startswith("BEGIN")]
    assert len(lookups) <= 1 and all("FROM http_sessions" in statement for statement in lookups)  # one key read


def test_a_made_up_cookie_on_a_page_not_kept_yet_renders_it_for_everyone_and_clears_it(app):
    response = bogus_visitor(app, MADE_UP["well-formed"]).get("/events")
    assert response.status_code == 200 and "X-Page-Cache" not in response.headers
    assert_cleared(response)
    anonymous = app.test_client().get("/events")  # the copy kept for others carries no cookie of anyone's
    assert anonymous.headers["X-Page-Cache"] == "hit" and "Set-Cookie" not in anonymous.headers
    assert anonymous.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"


def test_a_session_the_store_no_longer_holds_is_a_made_up_one(app):
    client = app.test_client()
    client.get("/w/volunteer")  # a session now exists
    sid = client.get_cookie("engagement_session").value
    interface = app.session_interface
    interface._delete_session(interface._get_store_id(sid))  # logged out elsewhere, or expired
    app.test_client().get("/")
    response = client.get("/")
    assert response.headers["X-Page-Cache"] == "hit"
    assert_cleared(response)


def test_a_made_up_cookie_on_a_private_page_is_left_to_flask(app):
    response = bogus_visitor(app, MADE_UP["ill-formed"]).get("/login")
    assert response.status_code == 200 and "X-Page-Cache" not in response.headers
    assert "public" not in response.headers["Cache-Control"]
