"""The member area: the profile, and deleting the account with everything it answered."""

from __future__ import annotations

import re

from engagement import PROJECT_ROOT
from engagement.accounts.models import User
from engagement.accounts.tokens import AccountToken
from engagement.db import transaction
from engagement.workflow import definitions
from engagement.workflow.models import WorkflowInstance
from tests.functional.helpers import count, mails, text
from tests.functional.test_signup import PASSWORD, activation_link, join


def member(client, new_client, read):
    join(client)
    visitor = new_client()
    visitor.get("/" + activation_link(read))
    return visitor


def test_anonymous_visitors_are_asked_to_log_in_first(client):
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/account"


def test_the_profile_shows_what_was_given_at_sign_up(client, new_client, read):
    visitor = member(client, new_client, read)
    page = text(visitor.get("/account").get_data(as_text=True))
    for expected in ("Camille Martin", "camille.martin@example.org", "17/05/1990", "94320 Thiais", "France",
                     "Écologie, Europe"):
        assert expected in page


def test_deleting_needs_the_box_ticked(client, new_client, read):
    visitor = member(client, new_client, read)
    visitor.get("/account")
    response = visitor.post("/account/delete", {})
    assert response.status_code == 422 and "Cochez la case pour confirmer." in text(visitor.last_html)
    assert count(read(), User) == 1


def test_deleting_erases_the_account_its_answers_and_tokens_and_logs_out(client, new_client, read):
    visitor = member(client, new_client, read)
    visitor.get("/account")
    response = visitor.post("/account/delete", {"confirm": "y"})
    assert response.status_code == 303 and response.headers["Location"] == "/account/deleted"
    session = read()
    assert count(session, User) == 0 and count(session, AccountToken) == 0
    [signup] = session.query(WorkflowInstance).filter_by(workflow_id="signup").all()  # still counted, anonymous
    assert signup.actor_id is None and signup.scrubbed_at is not None and signup.is_completed
    assert "first_name" not in signup.data and "email" not in signup.data and "password" not in signup.data
    assert visitor.get("/account").status_code == 302  # logged out
    again = new_client()
    again.get("/login")
    assert again.post("/login", {"email": "camille.martin@example.org", "password": PASSWORD}).status_code == 422
    assert len(mails(session)) == 1  # the activation mail stays in the outbox log


def test_a_member_edits_address_topics_and_newsletter(client, new_client, read):
    visitor = member(client, new_client, read)
    page = visitor.get("/account/edit").get_data(as_text=True)
    assert 'value="12 avenue de Versailles"' in page  # prefilled from the profile
    response = visitor.post("/account/edit", {
        "address-country": "FR", "address-street": "3 rue du Port", "address-postal_code": "13001",
        "interests": ["health", "housing"]})
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    user = read().query(User).one()
    assert user.address["city"] == "13201" and user.address["city_name"] == "Marseille 1er Arrondissement"
    assert user.interests == ["health", "housing"] and not user.has_newsletter
    shown = text(visitor.get("/account").get_data(as_text=True))
    assert "Marseille 1er Arrondissement" in shown and "Santé, Logement" in shown


def test_an_invalid_edit_changes_nothing(client, new_client, read):
    visitor = member(client, new_client, read)
    visitor.get("/account/edit")
    response = visitor.post("/account/edit", {"address-country": "FR", "address-street": "3 rue du Port",
                                              "address-postal_code": "99999", "interests": ["nope"]})
    assert response.status_code == 422
    assert "Aucune commune française n’a ce code postal." in text(visitor.last_html)
    assert read().query(User).one().address["city_name"] == "Thiais"


def test_topics_are_what_the_published_signup_workflow_lists(client, new_client, read, app, tmp_path):
    visitor = member(client, new_client, read)
    assert "Sport" not in text(visitor.get("/account/edit").get_data(as_text=True))
    source = (PROJECT_ROOT / "workflows" / "signup.yml").read_text(encoding="utf-8")
    changed = tmp_path / "signup.yml"
    version = int(re.search(r"^version: (\d+)$", source, re.M).group(1))
    changed.write_text(source.replace(f"version: {version}", f"version: {version + 1}").replace(
        "          transport: {fr: Transports, en: Transport}",
        "          transport: {fr: Transports, en: Transport}\n          sport: {fr: Sport, en: Sport}"),
        encoding="utf-8")
    with transaction(app.extensions["engagement"].sessions) as session:
        published, diagnostics = definitions.load_files(session, [changed])
    assert diagnostics == [] and [(p.workflow_id, p.version) for p in published] == [("signup", version + 1)]
    definitions.reset_caches()  # other processes see it within ACTIVE_TTL_SECONDS
    assert "Sport" in text(visitor.get("/account/edit").get_data(as_text=True))
