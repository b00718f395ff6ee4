"""Forgotten password: the same answer for every address, a single-use link, the new password works."""

from __future__ import annotations

import re

from engagement.accounts import service, tokens
from engagement.accounts.models import User
from engagement.db import transaction
from tests.functional.helpers import mails, text

OLD, NEW = "ancienne phrase de passe", "nouvelle phrase de passe"


def make_user(app, activated=True):
    with transaction(app.extensions["engagement"].sessions) as session:
        service.create_user(session, "lou@example.org", password=OLD, activated=activated)


def ask(client, email):
    client.get("/password/reset")
    return client.post("/password/reset", {"email": email})


def neutral(page: str) -> str:
    """The page without its per-session CSRF tokens: what could tell two accounts apart."""
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', page)


def reset_link(read) -> str:
    [message] = mails(read())
    found = re.search(r"https?://[^/\s]+(/password/reset/[A-Za-z0-9_\-]+)", message.text_body)
    assert found, message.text_body
    return found.group(1)


def logs_in(new_client, email, password) -> bool:
    visitor = new_client()
    visitor.get("/login")
    return visitor.post("/login", {"email": email, "password": password}).status_code == 303


def test_the_answer_is_the_same_whether_or_not_the_account_exists(client, new_client, app, read):
    make_user(app)
    known = ask(client, "LOU@example.org")
    unknown = ask(new_client(), "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert neutral(known.get_data(as_text=True)) == neutral(unknown.get_data(as_text=True))
    [message] = mails(read())
    assert message.to == ["lou@example.org"] and "nouveau mot de passe" in message.subject.lower()


def test_the_link_sets_a_new_password_once_and_logs_in(client, new_client, app, read):
    make_user(app)
    ask(client, "lou@example.org")
    link = reset_link(read)
    visitor = new_client()
    assert visitor.get(link).status_code == 200
    done = visitor.post(link, {"password": NEW, "confirm": NEW})
    assert done.status_code == 200 and "Votre mot de passe est changé" in text(visitor.last_html)
    assert not logs_in(new_client, "lou@example.org", OLD)
    assert logs_in(new_client, "lou@example.org", NEW)
    again = new_client().get(link)
    assert again.status_code == 400 and "déjà utilisé" in text(again.get_data(as_text=True))


def test_weak_or_mismatched_new_passwords_are_refused_and_the_link_still_works(client, new_client, app, read):
    make_user(app)
    ask(client, "lou@example.org")
    link = reset_link(read)
    visitor = new_client()
    visitor.get(link)
    weak = visitor.post(link, {"password": "password", "confirm": "password"})
    assert weak.status_code == 422 and "plus courants" in text(visitor.last_html)
    visitor.get(link)
    differ = visitor.post(link, {"password": NEW, "confirm": NEW + "!"})
    assert differ.status_code == 422 and "Les deux mots de passe diffèrent." in text(visitor.last_html)
    visitor.get(link)
    assert visitor.post(link, {"password": NEW, "confirm": NEW}).status_code == 200


def test_a_reset_also_activates_an_account_not_yet_activated(client, new_client, app, read):
    make_user(app, activated=False)
    ask(client, "lou@example.org")
    visitor = new_client()
    link = reset_link(read)
    visitor.get(link)
    visitor.post(link, {"password": NEW, "confirm": NEW})
    assert read().query(User).one().activated_at is not None
    assert logs_in(new_client, "lou@example.org", NEW)


def test_reset_links_are_capped_per_address_with_the_same_answer(client, new_client, app, read):
    make_user(app)
    answers = [neutral(ask(new_client(), "lou@example.org").get_data(as_text=True)) for _ in range(5)]
    assert len(set(answers)) == 1  # the fourth and fifth asks look exactly like the first
    assert len(mails(read())) == tokens.PER_ADDRESS_HOURLY == 3
