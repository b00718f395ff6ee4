"""A campaign's unsubscribe link: a confirmation page, one click, and no campaign mail after it
(account mail still goes)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engagement.campaigns import service
from engagement.db import transaction, utcnow
from engagement.mail import service as mail
from engagement.mail import suppression
from engagement.mail.models import MailMessage, MailSuppression
from tests.functional.campaign_steps import PARIS, finished, members, messages
from tests.functional.helpers import count, text
from tests.functional.invitation_steps import local

LOU = "lou@example.net"


@pytest.fixture
def link(app) -> str:
    with app.app_context():  # the link is signed with the app's key
        return local(mail.unsubscribe_link(LOU))


def suppressions(factory) -> list[tuple[str, str, str]]:
    with factory() as session:
        return [(r.email_hash, r.reason, r.source) for r in session.scalars(select(MailSuppression))]


def test_the_link_asks_first_and_records_nothing(client, link, factory):
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.get(link)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = text(client.last_html)
    assert f'<form method="post" action="{link}"' in page and 'type="submit"' in page
    assert "password reset" in page  # account mail still arrives: it says so
    assert suppressions(factory) == []


def test_confirming_unsubscribes_once_however_often_it_is_sent(client, link, factory):
    client.get(link)
    response = client.post(link)
    assert response.status_code == 200 and 'data-state="unsubscribed"' in client.last_html
    assert suppressions(factory) == [(suppression.digest(LOU), "unsubscribed", "link")]
    assert client.post(link, page=link).status_code == 200
    assert suppressions(factory) == [(suppression.digest(LOU), "unsubscribed", "link")]
    client.get(link)
    assert 'data-state="unsubscribed"' in client.last_html and f'action="{link}"' not in client.last_html


def test_a_mail_client_unsubscribes_in_one_post_without_a_form(client, link, factory):
    """RFC 8058: the client POSTs ``List-Unsubscribe=One-Click`` to the link, with no CSRF token."""
    response = client.client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert suppressions(factory) == [(suppression.digest(LOU), "unsubscribed", "link")]


def test_a_bounce_already_recorded_is_not_weakened(client, link, factory):
    with transaction(factory) as session:
        suppression.suppress(session, LOU, "bounced", "mailjet", utcnow())
    client.client.post(link)
    assert suppressions(factory) == [(suppression.digest(LOU), "bounced", "mailjet")]


@pytest.mark.parametrize("change", [lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
                                    lambda t: "x" + t, lambda t: "garbage"])
def test_a_tampered_link_is_refused(client, link, factory, change):
    token = link.rsplit("/", 1)[1]
    bad = f"/unsubscribe/{change(token)}"
    assert client.get(bad).status_code == 404
    assert 'data-state="invalid"' in client.last_html
    assert client.client.post(bad).status_code == 404
    assert suppressions(factory) == []


def test_after_unsubscribing_no_campaign_reaches_the_address_but_account_mail_does(app, client, factory):
    members(app, (LOU, PARIS), ("sam@example.net", PARIS))
    sessions = app.extensions["engagement"].sessions
    with transaction(sessions) as session:
        first = service.create(session, audience="department:75", subject="Première", body="Texte", author=None,
                               now=utcnow()).id
    finished(factory, first)
    with app.app_context(), factory() as session:
        [lou] = [m.id for m in session.scalars(select(MailMessage).where(MailMessage.campaign_id == first))
                 if m.to == [LOU]]
        sent = mail.one(session, lou)  # as it left: the body with Lou's own link
    found = re.search(r"http://\S+(/unsubscribe/\S+)", sent.text_body)
    assert found and sent.headers["List-Unsubscribe"] == f"<http://127.0.0.1:5000{found.group(1)}>"
    client.get(found.group(1))
    client.post(found.group(1))
    with transaction(sessions) as session:
        second = service.create(session, audience="department:75", subject="Seconde", body="Texte", author=None,
                                now=utcnow()).id
    finished(factory, second)
    assert messages(factory, second) == {LOU: "suppressed", "sam@example.net": "sent"}
    with transaction(sessions) as session:  # a transactional mail (a password reset, say) still goes
        receipt = mail.compose(session, to=[LOU], subject="Compte", body="Votre lien", context={}, locale="fr",
                               literal=True).id
    with factory() as session:
        assert session.get(MailMessage, receipt).status == "sent"
        assert count(session, MailSuppression) == 1
