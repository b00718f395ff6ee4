"""The "under attack" switch: forms closed with a static 503, public pages from the cache, cookies ignored,
nothing written; turned from the admin area or the CLI, and off again."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event

from engagement import switches
from engagement.db import transaction, utcnow
from tests.functional.invitation_steps import log_in, make_user
from web.cli import main
from web.underattack import RETRY_AFTER, Budget, SwitchReader

CLOSED = 'data-closed="under-attack"'


def turn(app: Any, on: bool) -> None:
    with transaction(app.extensions["engagement"].sessions) as session:
        switches.turn(session, switches.UNDER_ATTACK, on=on, by="test", now=utcnow())
    app.extensions["page_cache"].switch.forget()


def writes(app: Any) -> list[str]:
    """Record every statement that could change the database, from now on."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if re.match(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)", sql, re.I):
            seen.append(sql)

    event.listen(app.extensions["engagement"].engine, "before_cursor_execute", record)
    return seen


def is_closed(response: Any) -> bool:
    return (response.status_code == 503 and response.headers["Retry-After"] == str(RETRY_AFTER)
            and response.headers["Cache-Control"] == "no-store")


def test_forms_and_accounts_answer_the_closed_page(app, client):
    client.get("/login")
    token = client.hidden("csrf_token")
    turn(app, True)
    for path in ("/login", "/signup", "/w/volunteer", "/password/reset", "/committees/new", "/account"):
        response = client.get(path)
        assert is_closed(response), path
        assert CLOSED in response.get_data(as_text=True)
    for path in ("/login", "/w/volunteer", "/lang", "/committees/x/follow", "/webhooks/mailjet"):
        assert is_closed(client.client.post(path, data={"csrf_token": token})), path


def test_the_closed_page_speaks_the_browser_s_language(app):
    turn(app, True)
    english = app.test_client().get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    french = app.test_client().get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "temporarily closed" in english
    assert '<html lang="fr">' in french and "temporairement fermé" in french


def test_the_json_endpoints_answer_json(app):
    turn(app, True)
    response = app.test_client().get("/api/cities?postal_code=94320")
    assert is_closed(response) and response.is_json and response.json["error"] == "Service Unavailable"


def test_public_pages_come_from_the_cache_with_a_long_s_maxage(app):
    app.test_client().get("/events")  # kept in normal times
    turn(app, True)
    response = app.test_client().get("/events")
    assert response.status_code == 200 and response.headers["X-Page-Cache"] == "hit"
    assert response.headers["Cache-Control"] == "public, max-age=0, s-maxage=600"
    assert response.headers["Vary"] == "Accept-Language"


def test_a_page_missing_from_the_cache_is_rendered_once_then_kept(app):
    turn(app, True)
    first = app.test_client().get("/committees")
    second = app.test_client().get("/committees")
    assert first.status_code == second.status_code == 200
    assert first.headers["Cache-Control"] == second.headers["Cache-Control"] == "public, max-age=0, s-maxage=600"
    assert app.extensions["page_cache"].store.get("fr|/committees|") is not None


def test_cookies_are_ignored_a_member_sees_the_public_page(app, client):
    make_user(app, "member@example.org")
    log_in(client, "member@example.org")
    assert 'action="/logout"' in client.get("/").get_data(as_text=True)
    turn(app, True)
    response = client.get("/")
    assert response.status_code == 200 and 'action="/logout"' not in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert is_closed(client.get("/account"))


def test_nothing_is_written_under_load(app, client):
    make_user(app, "member@example.org")
    log_in(client, "member@example.org")
    token = client.hidden("csrf_token", client.get("/account").get_data(as_text=True))
    turn(app, True)
    seen = writes(app)
    visitor = app.test_client()
    for i in range(60):
        for path in ("/", "/events", f"/events/no-such-{i}", f"/events?page={i % 3 + 1}&x={i}", "/search",
                     f"/search?q=paris{i}", "/login", "/w/volunteer", "/account", "/static/css/site.css"):
            assert client.get(path).status_code in (200, 404, 503), path
            assert visitor.get(path).status_code in (200, 404, 503), path
        for path in ("/login", "/logout", "/w/volunteer", "/lang", "/password/reset"):
            assert client.client.post(path, data={"csrf_token": token, "email": "member@example.org",
                                                  "password": "x", "lang": "en"}).status_code == 503
    assert seen == []


def test_renders_of_missing_pages_are_budgeted_per_view(app):
    turn(app, True)
    answers = [app.test_client().get(f"/events/random-{i}").status_code for i in range(40)]
    assert answers.count(404) <= 12 and answers.count(503) >= 28  # 10 at once, 5 a second after
    assert app.test_client().get("/events/random-0").status_code == 503  # nothing left for this view
    home = app.test_client().get("/")  # the flood spent the event page's budget, not the home page's
    assert home.status_code == 200 and home.headers["Cache-Control"] == "public, max-age=0, s-maxage=600"


def test_switching_off_restores_everything(app, client):
    turn(app, True)
    assert is_closed(client.get("/login"))
    turn(app, False)
    assert client.get("/login").status_code == 200
    response = client.post("/login", {"email": "nobody@example.org", "password": "wrong password here"})
    assert response.status_code in (200, 422) and CLOSED not in response.get_data(as_text=True)


def test_an_admin_turns_it_on_and_off_from_the_admin_area(app, client, factory):
    make_user(app, "admin@example.org", role="admin")
    log_in(client, "admin@example.org")
    page = client.get("/admin/under-attack").get_data(as_text=True)
    assert 'data-on="n"' in page
    response = client.post("/admin/under-attack", {"turn": "on"})
    assert response.status_code == 303
    assert is_closed(app.test_client().get("/login"))
    page = client.get("/admin/under-attack").get_data(as_text=True)  # still open to the admin
    assert 'data-on="y"' in page and "admin@example.org" in page
    assert is_closed(client.get("/organizer/"))  # the rest of the admin's session is ignored
    client.get("/admin/under-attack")
    assert client.post("/admin/under-attack", {"turn": "off"}).status_code == 303
    assert app.test_client().get("/login").status_code == 200
    with factory() as session:
        state = switches.state(session, switches.UNDER_ATTACK)
    assert state.is_on is False and state.changed_by == "admin@example.org"


@pytest.mark.parametrize("role", ["member", "organizer", "analyst"])
def test_only_admins_turn_it(app, client, role):
    make_user(app, f"{role}@example.org", role=role)
    log_in(client, f"{role}@example.org")
    assert client.get("/admin/under-attack").status_code == 403
    client.get("/account")
    assert client.post("/admin/under-attack", {"turn": "on"}).status_code == 403
    assert app.test_client().get("/login").status_code == 200


def test_the_cli_turns_it_and_says_so(app, env):
    runner = CliRunner(env=env)
    result = runner.invoke(main, ["under-attack", "on", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["under_attack"] is True and json.loads(result.stdout)["changed"] is True
    app.extensions["page_cache"].switch.forget()
    assert is_closed(app.test_client().get("/login"))
    again = json.loads(runner.invoke(main, ["under-attack", "on", "--json"]).stdout)
    assert again["changed"] is False and again["changed_by"] == "cli"
    assert runner.invoke(main, ["under-attack", "off"]).exit_code == 0
    status = runner.invoke(main, ["under-attack", "status"])
    assert status.exit_code == 0 and "under attack: off" in status.output
    app.extensions["page_cache"].switch.forget()
    assert app.test_client().get("/login").status_code == 200


def test_the_switch_is_read_every_few_seconds_and_kept_when_the_database_fails(app, monkeypatch):
    reader = SwitchReader(app.extensions["engagement"].engine, poll=3600)
    assert reader() is False
    turn(app, True)
    assert reader() is False  # not read again before its time
    reader.forget()
    assert reader() is True
    from sqlalchemy.exc import OperationalError

    def broken() -> Any:
        raise OperationalError("SELECT", {}, Exception("database down"))

    monkeypatch.setattr(reader.engine, "connect", broken)
    reader.forget()
    assert reader() is True  # the last value read, not "off"


def test_the_budget_refills_with_time(monkeypatch):
    now = [100.0]
    monkeypatch.setattr("web.underattack.time.monotonic", lambda: now[0])
    budget = Budget(rate=5, burst=10)
    assert [budget.take() for _ in range(11)].count(True) == 10
    now[0] += 1.0
    assert [budget.take() for _ in range(6)].count(True) == 5


def test_warming_renders_the_public_pages_in_each_language_as_a_visitor_would(app, client):
    from tests.functional.test_event_registration import create_event
    from web.locale import LOCALES
    from web.underattack import warm

    slug = create_event(app)
    kept = warm(app, LOCALES)
    assert kept == 2 * 5  # home, events, committees, search and the event, in French and English
    store = app.extensions["page_cache"].store
    for key in ("fr|/|", "en|/|", f"fr|/events/{slug}|", f"en|/events/{slug}|"):
        entry = store.get(key)
        assert entry is not None and b'action="/logout"' not in entry.body, key
    assert b'<html lang="en">' in store.get("en|/events|").body
    turn(app, True)
    assert app.test_client().get(f"/events/{slug}").headers["X-Page-Cache"] == "hit"
