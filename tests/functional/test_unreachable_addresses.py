"""One address rule everywhere (engagement.mail.addresses), and a mail that cannot be composed fails alone.

The command line refuses what the mailer cannot reach. An account that already holds such an address (data
from before the rule, written here straight into the table) breaks no request: its mail is not composed,
the failure is logged without the address, and the request's own change commits.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update

from engagement.accounts.models import User
from engagement.accounts.tokens import AccountToken
from engagement.committees.models import Committee, CommitteeMembership
from engagement.db import transaction, utcnow
from engagement.mail.models import MailMessage
from tests.functional.helpers import count, field_error, mails
from tests.functional.invitation_steps import log_in, make_user, send, to_summary
from tests.functional.test_committees import committee
from tests.functional.test_event_registration import create_event, open_registration, press, rows
from tests.functional.test_password_reset import neutral

UNREACHABLE = ["x@localhost", "x@foo.test", "x@bar.local", "x@example.invalid"]
# Reserved for documentation or private use, never delegated, or a top-level domain that cannot exist.
RESERVED = ["x@foo.example", "x@foo.alt", "x@foo.internal", "x@foo.corp", "x@nas.lan", "x@box.home",
            "x@pc.localdomain", "x@a.b"]


def legacy_member(app: Any, email: str, **changes: Any) -> int:
    """An active account (password invitation_steps.PASSWORD) whose address is then set to ``email`` by a
    plain UPDATE, as data written before the rule could hold it."""
    user_id = make_user(app, f"legacy-{uuid.uuid4().hex[:8]}@example.org", **changes)
    with transaction(app.extensions["engagement"].sessions) as session:
        session.execute(update(User).where(User.id == user_id).values(email=email))
    return user_id


def not_composed(caplog: Any, address: str) -> None:
    """The failure is logged, without the address."""
    assert "could not be composed" in caplog.text
    assert address not in caplog.text and address.split("@")[0] + "@" not in caplog.text


@pytest.mark.parametrize("address", [*UNREACHABLE, *RESERVED, "X@Foo.Test", " x@localhost ", "x@home.arpa",
                                     "x@intranet"])
def test_users_create_refuses_an_address_no_mail_reaches(cli, read, address):
    result = cli("users", "create", address, "--role", "organizer")
    assert result.exit_code == 1
    assert "cannot receive mail" in result.stderr, result.stderr
    assert count(read(), User) == 0


@pytest.mark.parametrize("address", [*UNREACHABLE, "x@foo.example", "x@a.b"])
def test_a_password_reset_for_an_unreachable_account_answers_the_usual_page(app, client, new_client, read, caplog,
                                                                            address):
    caplog.set_level(logging.INFO)
    user_id = legacy_member(app, address)
    asked = new_client()
    asked.get("/password/reset")
    response = asked.post("/password/reset", {"email": address})
    unknown = new_client()
    unknown.get("/password/reset")
    other = unknown.post("/password/reset", {"email": "nobody@example.org"})
    assert response.status_code == other.status_code == 200
    assert neutral(asked.last_html) == neutral(unknown.last_html)
    session = read()
    assert mails(session) == []
    assert count(session, AccountToken, AccountToken.user_id == user_id) == 1  # the request itself committed
    not_composed(caplog, address)


@pytest.mark.parametrize("address", UNREACHABLE)
def test_approving_a_committee_an_unreachable_member_hosts_commits_and_tells_the_other_hosts(
        app, new_client, read, caplog, address):
    caplog.set_level(logging.INFO)
    host = legacy_member(app, address)
    cohost = make_user(app, "cohost@example.org")
    make_user(app, "orga@example.org", role="organizer")
    slug = committee(app, "Paris Centre", host, approved=False)
    with transaction(app.extensions["engagement"].sessions) as session:
        committee_id = session.scalar(select(Committee.id).where(Committee.slug == slug))
        session.add(CommitteeMembership(committee_id=committee_id, user_id=cohost, role="host", created_at=utcnow()))
    organizer = new_client()
    log_in(organizer, "orga@example.org")
    organizer.get("/organizer/committees")
    response = organizer.post(f"/organizer/committees/{slug}/approve", {})
    assert response.status_code == 303
    session = read()
    assert session.scalar(select(Committee.status).where(Committee.slug == slug)) == "approved"
    assert [(m.template, m.to) for m in mails(session)] == [("committee_approved", ["cohost@example.org"])]
    not_composed(caplog, address)
    organizer.get("/organizer/committees")
    again = organizer.post(f"/organizer/committees/{slug}/approve", {})  # decided once: no second decision
    assert again.status_code == 303 and count(read(), MailMessage) == 1


def test_an_unreachable_member_takes_a_place_at_an_event_all_the_same(app, client, read, caplog):
    caplog.set_level(logging.INFO)
    legacy_member(app, "lou@bar.local")
    log_in(client, "lou@bar.local")
    slug = create_event(app, capacity=10)
    open_registration(client, slug)
    assert press(client, "register")
    session = read()
    assert [(r.email, r.status) for r in rows(session, slug)] == [("lou@bar.local", "registered")]
    assert mails(session) == []
    not_composed(caplog, "lou@bar.local")


def test_an_ordinary_address_is_created_reset_and_told_of_its_committee(app, cli, client, new_client, read):
    assert cli("users", "create", "Hote@Example.org").exit_code == 0
    client.get("/password/reset")
    assert client.post("/password/reset", {"email": "hote@example.org"}).status_code == 200
    host = read().scalar(select(User.id).where(User.email == "hote@example.org"))
    make_user(app, "orga@example.org", role="organizer")
    slug = committee(app, "Lyon Centre", host, approved=False)
    organizer = new_client()
    log_in(organizer, "orga@example.org")
    organizer.get("/organizer/committees")
    assert organizer.post(f"/organizer/committees/{slug}/approve", {}).status_code == 303
    assert [m.template for m in mails(read())] == ["password_reset", "committee_approved"]


# -- what a form says: the reason, in the visitor's language ------------------------------------------------

SIGNUP = {"first_name": "Camille", "last_name": "Martin", "email": "camille.martin@example.org",
          "password": "une phrase de passe solide", "birth_date": "1990-05-17"}
DOMAIN = ("Ce domaine ne peut pas recevoir d’e-mails\u00a0: vérifiez la partie après le @.",
          "This domain cannot receive email: check the part after the @.")
MAILBOX = ("La partie avant le @ est trop longue\u00a0: 64 caractères au plus.",
           "The part before the @ is too long: 64 characters at most.")
REASONS = [("x@sub.localhost", DOMAIN), ("x@foo.home.arpa", DOMAIN), ("x@foo.internal", DOMAIN), ("x@a.b", DOMAIN),
           ("x@intranet", DOMAIN), ("x" * 65 + "@example.org", MAILBOX),
           ("x" * 64 + "@" + ".".join(["d" * 60] * 4) + ".org",
            ("L’adresse e-mail est trop longue\u00a0: 254 caractères au plus.",
             "The email address is too long: 254 characters at most.")),
           ("camille.martin@", ("Saisissez une adresse e-mail valide, comme nom@exemple.fr.",
                                "Enter a valid email address, like name@example.org."))]


@pytest.mark.parametrize(("address", "messages"), REASONS)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_sign_up_says_why_an_address_is_refused(client, read, address, messages, language):
    headers = {"Accept-Language": language}
    client.get("/w/signup", headers=headers)
    response = client.post("/w/signup", {**SIGNUP, "email": address, "trigger": "next"}, headers=headers)
    assert response.status_code == 422
    assert field_error(client.last_html, "email") == messages[language == "en"]
    assert count(read(), User) == 0


@pytest.mark.parametrize("address", ["camille@foo.internal", "camille@box.home", "camille@foo.example"])
def test_an_invitation_to_a_reserved_domain_is_refused_next_to_the_friend_address(client, read, address):
    to_summary(client)
    response = send(client, friend_email=address)
    assert response.status_code == 422
    assert field_error(client.last_html, "friend_email") == DOMAIN[0]
    assert mails(read()) == []
