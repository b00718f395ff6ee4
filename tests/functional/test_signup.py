"""Joining through workflows/signup.yml: four steps, one account created at the end, one activation mail."""

from __future__ import annotations

import re
from datetime import date

from engagement.accounts import tokens
from engagement.accounts.models import User
from engagement.accounts.service import create_user
from engagement.db import transaction
from tests.functional.helpers import count, field_error, instances, mails, text

URL = "/w/signup"
PASSWORD = "une phrase de passe solide"
IDENTITY = {"first_name": "Camille", "last_name": "Martin", "email": "Camille.Martin@Example.org",
            "password": PASSWORD, "birth_date": "1990-05-17"}
HOME = {"address-country": "FR", "address-street": "12 avenue de Versailles", "address-postal_code": "94320"}
TOPICS = {"interests": ["ecology", "europe"]}
AGREEMENT = {"newsletter": "y", "terms": "y"}


def step(client, data, trigger="next"):
    client.get(URL)
    response = client.post(URL, {**data, "trigger": trigger})
    assert response.status_code == 303, text(client.last_html)[:500]


def join(client, identity=IDENTITY):
    for data in (identity, HOME, TOPICS, AGREEMENT):
        step(client, data)
    step(client, {}, "join")  # from the review page: the account is created only now


def activation_link(read) -> str:
    [message] = mails(read())
    found = re.search(r"http://[^\s]+/account/activate/([A-Za-z0-9_\-]+)", message.text_body)
    assert found, message.text_body
    return found.group(0).split("://", 1)[1].split("/", 1)[1]


def test_signup_redirects_to_the_workflow(client):
    response = client.get("/signup")
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)


def test_joining_creates_one_inactive_account_and_sends_exactly_one_activation_mail(client, read):
    join(client)
    client.get(URL)
    assert "Vérifiez votre boîte mail" in text(client.last_html)
    session = read()
    [user] = session.query(User).all()
    assert (user.email, user.first_name, user.last_name) == ("camille.martin@example.org", "Camille", "Martin")
    assert user.activated_at is None and user.password_hash.startswith("$argon2id$")
    assert user.birth_date == date(1990, 5, 17) and user.interests == ["ecology", "europe"] and user.has_newsletter
    assert user.address["city"] == "94073" and user.address["city_name"] == "Thiais"
    [message] = mails(session)
    assert message.to == ["camille.martin@example.org"] and message.status == "sent"
    assert "Activez votre compte" in message.subject
    assert instances(session, "signup")[0].is_completed


def test_no_account_exists_before_the_last_step(client, read):
    for data in (IDENTITY, HOME, TOPICS):
        step(client, data)
    assert count(read(), User) == 0 and mails(read()) == []


def test_activation_link_activates_logs_in_and_works_once(client, new_client, read):
    join(client)
    link = "/" + activation_link(read)
    visitor = new_client()
    response = visitor.get(link)
    assert response.status_code == 200 and "Bienvenue, Camille" in text(visitor.last_html)
    assert read().query(User).one().activated_at is not None
    assert "Se déconnecter" in text(visitor.get("/").get_data(as_text=True))
    again = new_client().get(link)
    assert again.status_code == 400 and "déjà utilisé" in text(again.get_data(as_text=True))


def test_login_before_activation_says_so_and_after_activation_works(client, new_client, read):
    join(client)
    visitor = new_client()
    visitor.get("/login")
    refused = visitor.post("/login", {"email": "camille.martin@example.org", "password": PASSWORD})
    assert refused.status_code == 422 and "pas encore activé" in text(visitor.last_html)
    visitor.get("/" + activation_link(read))
    other = new_client()
    other.get("/login")
    assert other.post("/login", {"email": "CAMILLE.MARTIN@example.org", "password": PASSWORD}).status_code == 303


def test_an_email_already_registered_goes_through_and_its_owner_is_told_instead(client, app, read):
    with transaction(app.extensions["engagement"].sessions) as session:
        create_user(session, "camille.martin@example.org").first_name = "Camille"
    join(client)
    client.get(URL)
    assert "Vérifiez votre boîte mail" in text(client.last_html)  # the page of a new member, word for word
    assert count(read(), User) == 1
    [message] = mails(read())
    assert message.to == ["camille.martin@example.org"] and "Vous avez déjà un compte" in message.subject
    assert "/password/reset" in message.text_body and "/account/activate/" not in message.text_body


def test_an_account_registered_meanwhile_gets_the_notice_and_no_second_account(client, app, read):
    for data in (IDENTITY, HOME, TOPICS):
        step(client, data)
    with transaction(app.extensions["engagement"].sessions) as session:
        create_user(session, "camille.martin@example.org")
    step(client, AGREEMENT)
    step(client, {}, "join")
    assert count(read(), User) == 1
    assert [m.subject.startswith("Vous avez déjà un compte") for m in mails(read())] == [True]
    assert instances(read(), "signup")[0].is_completed


def test_too_young_to_join(client, read):
    client.get(URL)
    response = client.post(URL, {**IDENTITY, "birth_date": date.today().replace(year=date.today().year - 14)
                                 .isoformat(), "trigger": "next"})
    assert response.status_code == 422
    assert "Il faut avoir au moins 15 ans pour adhérer." in field_error(client.last_html, "birth_date")


def test_a_new_activation_link_can_be_asked_for_with_a_neutral_answer(client, new_client, read):
    join(client)
    visitor = new_client()
    visitor.get("/account/activate/resend")
    sent = visitor.post("/account/activate/resend", {"email": "CAMILLE.MARTIN@example.org"})
    other = new_client()
    other.get("/account/activate/resend")
    unknown = other.post("/account/activate/resend", {"email": "nobody@example.org"})
    assert sent.status_code == unknown.status_code == 200
    assert text(sent.get_data(as_text=True)).count("nouveau lien") == text(unknown.get_data(as_text=True)).count(
        "nouveau lien") == 1
    messages = mails(read())
    assert [m.to for m in messages] == [["camille.martin@example.org"]] * 2  # the first, and the new one
    link = re.search(r"/account/activate/[A-Za-z0-9_\-]+", messages[-1].text_body).group(0)
    assert new_client().get(link).status_code == 200
    again = new_client()
    again.get("/account/activate/resend")
    again.post("/account/activate/resend", {"email": "camille.martin@example.org"})
    assert len(mails(read())) == 2  # an active account gets no more activation links


def test_sign_up_cannot_flood_a_member_with_notices(client, new_client, app, read):
    """Whoever fills the form in, an address gets at most tokens.PER_ADDRESS_HOURLY notices an hour; past it
    the visitor sees the same page and nothing is sent."""
    with transaction(app.extensions["engagement"].sessions) as session:
        create_user(session, "camille.martin@example.org").first_name = "Camille"
    for visitor in [client, *(new_client() for _ in range(4))]:
        join(visitor)
        visitor.get(URL)
        assert "Vérifiez votre boîte mail" in text(visitor.last_html)
    notices = mails(read())
    assert len(notices) == tokens.PER_ADDRESS_HOURLY == 3
    assert all(m.to == ["camille.martin@example.org"] for m in notices)
    link = re.search(r"/password/reset/[A-Za-z0-9_\-]+", notices[0].text_body)
    assert link and new_client().get(link.group(0)).status_code == 200  # a working reset link of its own
    assert count(read(), User) == 1


def test_activation_links_are_capped_per_address(client, new_client, read):
    join(client)  # the first activation link
    for _ in range(4):
        visitor = new_client()
        visitor.get("/account/activate/resend")
        assert visitor.post("/account/activate/resend", {"email": "camille.martin@example.org"}).status_code == 200
    assert len(mails(read())) == tokens.PER_ADDRESS_HOURLY == 3
