"""Moving around a workflow: Back, Start over, leaving and coming back, and logging in half-way."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from engagement.accounts.service import create_user
from engagement.db import transaction
from engagement.workflow.models import WorkflowTransition
from tests.functional.helpers import (
    AVAILABILITY,
    IDENTITY,
    URL,
    advance,
    checked,
    count,
    in_wizard,
    input_value,
    instances,
    state_of,
)

COOKIE = "engagement_session"
PASSWORD = "correct horse battery"


@pytest.fixture
def user(app: Any) -> Any:
    with transaction(app.extensions["engagement"].sessions) as session:
        return create_user(session, "camille@example.org", role="member", password=PASSWORD)


def cookie(client: Any) -> str | None:
    found = client.client.get_cookie(COOKIE)
    return found.value if found else None


def log_in(client: Any, next_url: str = URL, email: str = "camille@example.org") -> Any:
    """Fill the login form as a browser would: it posts to the page's own URL, with its hidden ``next``."""
    page_url = f"/login?{urlencode({'next': next_url})}"
    client.get(page_url)
    login_form = client.last_html.split('class="step"')[1]
    return client.post(page_url, {"email": email, "password": PASSWORD, "next": client.hidden("next", login_form)})


def go_back(client: Any) -> Any:
    """Press Back on the page shown without typing anything (the step token only)."""
    assert 'formaction="/w/volunteer/back"' in client.last_html
    return client.post(f"{URL}/back", {"step": client.hidden("step")})


def test_back_shows_the_previous_step_with_its_answers(client, read):
    client.get(URL)
    advance(client, IDENTITY)
    response = go_back(client)
    assert response.status_code == 303 and in_wizard(response.headers["Location"], URL)
    client.get(URL)
    page = client.last_html
    assert state_of(page) == "identity"
    assert (input_value(page, "first_name"), input_value(page, "email"), input_value(page, "age")) == (
        "Camille", "camille@example.org", "30")
    [back] = [t for t in read().query(WorkflowTransition).all() if t.trigger == "back"]
    assert (back.source, back.dest) == ("availability", "identity")


def test_back_over_an_automatic_step_returns_to_the_last_form(client):
    client.get(URL)
    advance(client, IDENTITY)
    advance(client, AVAILABILITY)
    go_back(client)
    client.get(URL)
    assert state_of(client.last_html) == "availability"  # not the automatic `routing` state
    assert checked(client.last_html, "missions") == {"events", "digital"}
    assert checked(client.last_html, "driving_licence") == {"y"}


def test_first_step_offers_no_back_button(client):
    client.get(URL)
    assert 'action="/w/volunteer/back"' not in client.last_html
    assert 'action="/w/volunteer/back"' in advance(client, IDENTITY)


def test_start_over_shows_only_once_there_is_something_to_discard(client):
    client.get(URL)
    assert 'href="/w/volunteer/restart"' not in client.last_html  # a fresh instance: nothing to discard
    assert 'href="/w/volunteer/restart"' in advance(client, IDENTITY)
    go_back(client)
    client.get(URL)
    assert state_of(client.last_html) == "identity"  # no history again, but answers to discard
    assert 'href="/w/volunteer/restart"' in client.last_html


def test_back_with_a_stale_step_token_changes_nothing(client, read):
    client.get(URL)
    advance(client, IDENTITY)
    response = client.post(f"{URL}/back", {"step": "1"})
    assert response.headers["Location"] == "/w/volunteer?stale=1"
    [instance] = instances(read())
    assert instance.state == "availability"


def test_restart_abandons_the_instance_and_starts_afresh(client, read):
    client.get(URL)
    advance(client, IDENTITY)
    [before] = instances(read())
    response = client.post(f"{URL}/restart")
    assert response.status_code == 303 and in_wizard(response.headers["Location"], URL)
    [instance] = instances(read())  # abandoned; the next visit starts the fresh one
    assert instance.id == before.id
    assert instance.abandoned_at is not None and not instance.is_completed
    assert instance.state == "availability" and instance.data["first_name"] == "Camille"
    client.get(URL)
    page = client.last_html
    assert state_of(page) == "identity"
    assert input_value(page, "first_name") == ""
    assert client.hidden("step") == "1"
    assert 'action="/w/volunteer/restart"' not in page  # nothing to discard yet
    old, fresh = instances(read())
    assert old.id == before.id and old.abandoned_at is not None
    assert (fresh.state, fresh.lock_version, fresh.data, fresh.history) == ("identity", 1, {}, [])
    assert fresh.abandoned_at is None
    advance(client, {**IDENTITY, "first_name": "Dominique"})
    old, new = instances(read())
    assert old.id == before.id and new.id == fresh.id and new.data["first_name"] == "Dominique"
    assert old.data["first_name"] == "Camille" and old.state == "availability"


def test_leaving_and_coming_back_resumes_the_step(client, read):
    client.get(URL)
    advance(client, IDENTITY)
    client.get("/")
    assert client.get(URL).status_code == 200
    assert state_of(client.last_html) == "availability"
    assert len(instances(read())) == 1


def test_another_browser_starts_its_own_instance(client, new_client, read):
    client.get(URL)
    advance(client, IDENTITY)
    other = new_client()
    other.get(URL)
    assert state_of(other.last_html) == "identity"
    assert input_value(other.last_html, "first_name") == ""
    mine, theirs = instances(read())  # the first visit starts an instance
    assert (mine.state, mine.data["first_name"]) == ("availability", "Camille")
    assert (theirs.state, theirs.lock_version, theirs.data, theirs.history) == ("identity", 1, {}, [])
    other.get(URL)
    assert len(instances(read())) == 2  # the other browser's second visit resumes its own


def test_login_claims_the_anonymous_instance(client, user, read):
    client.get(URL)
    advance(client, IDENTITY)
    response = log_in(client)
    assert response.status_code == 303 and in_wizard(response.headers["Location"], URL)
    [instance] = instances(read())
    assert instance.actor_id == user.id


def test_logged_in_user_resumes_in_another_browser(client, new_client, user, read):
    client.get(URL)
    advance(client, IDENTITY)
    log_in(client)
    other = new_client()
    log_in(other)
    other.get(URL)
    assert state_of(other.last_html) == "availability"
    advance(other, AVAILABILITY)
    [instance] = instances(read())
    assert instance.state == "summary" and instance.actor_id == user.id
    assert count(read(), WorkflowTransition, WorkflowTransition.actor_id == user.id) == 2


def test_after_logout_the_claimed_instance_is_not_shown(client, user, read):
    client.get(URL)
    advance(client, IDENTITY)
    log_in(client)
    client.get(URL)
    assert client.post("/logout").status_code == 303
    client.get(URL)
    assert state_of(client.last_html) == "identity"
    assert instances(read())[0].state == "availability"


def test_login_regenerates_the_session_id(client, new_client, user):
    client.get(URL)
    advance(client, IDENTITY)
    before = cookie(client)
    log_in(client)
    after = cookie(client)
    assert before and after and before != after
    stolen = new_client()
    stolen.client.set_cookie(COOKIE, before)
    stolen.get(URL)
    assert "/login?next=" in stolen.last_html  # the old id is not logged in
    assert state_of(stolen.last_html) == "identity"


def test_wrong_password_is_refused_without_saying_which_part(client, user):
    client.get("/login")
    response = client.post("/login", {"email": "camille@example.org", "password": "wrong password"})
    assert response.status_code == 422
    assert "Adresse e-mail ou mot de passe incorrect." in client.last_html
    assert cookie(client) is not None and "Se déconnecter" not in client.last_html


@pytest.mark.parametrize("target", ["//evil.example", "http://evil.example", "https://evil.example/w/volunteer",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, user, target):
    response = log_in(client, next_url=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_login_follows_a_same_site_next(client, user):
    response = log_in(client, next_url="/w/volunteer")
    assert response.headers["Location"] == "/w/volunteer"


def test_language_switch_never_redirects_off_site(client):
    client.get(URL)
    response = client.post("/lang", {"lang": "en", "next": "//evil.example"})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_back_keeps_what_was_typed_on_the_step_left_when_it_passes_its_rules(client, read):
    client.get(URL)
    advance(client, IDENTITY)
    # Back is a button of the step's form: the typed answers travel with it.
    response = client.post(f"{URL}/back", {"step": client.hidden("step"), "missions": ["phoning"]})
    assert response.status_code == 303
    client.get(URL)
    assert state_of(client.last_html) == "identity"
    [back] = [t for t in read().query(WorkflowTransition).all() if t.trigger == "back"]
    assert back.changes == {"missions": ["phoning"], "driving_licence": False}
    advance(client, IDENTITY)
    assert checked(client.last_html, "missions") == {"phoning"}


def test_back_drops_what_breaks_its_rules_and_keeps_the_previous_answer(client, read):
    client.get(URL)
    advance(client, IDENTITY)
    # four missions break max_selected (3): the answer already given stays, nothing is logged for it
    too_many = ["canvassing", "phoning", "events", "digital"]
    assert client.post(f"{URL}/back", {"step": client.hidden("step"), "missions": too_many}).status_code == 303
    [back] = [t for t in read().query(WorkflowTransition).all() if t.trigger == "back"]
    assert "missions" not in (back.changes or {})
    client.get(URL)
    advance(client, IDENTITY)
    assert checked(client.last_html, "missions") == set()


def test_back_posted_from_the_first_step_stays_there_without_an_already_sent_notice(client, read):
    client.get(URL)
    response = client.post(f"{URL}/back", {"step": client.hidden("step")})
    assert response.status_code == 303 and "stale" not in response.headers["Location"]
    client.get(response.headers["Location"])
    assert state_of(client.last_html) == "identity" and 'class="notice"' not in client.last_html
    assert instances(read())[0].state == "identity"
