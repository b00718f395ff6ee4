"""Consent records (GDPR art. 7): each consent stored with its words, version, time and how it was given, and
withdrawn from /account in one click, which every later campaign to the newsletter's audience obeys."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from engagement.accounts.models import User
from engagement.campaigns import service as campaigns
from engagement.db import transaction, utcnow
from engagement.mail import service as mail
from engagement.mail.models import MailMessage
from engagement.pages import legal
from engagement.pages import service as pages
from engagement.privacy import consents
from engagement.privacy.models import ConsentRecord
from tests.functional import helpers
from tests.functional.campaign_steps import finished, messages
from tests.functional.helpers import checked, count, instances, text
from tests.functional.invitation_steps import log_in, make_user
from tests.functional.test_signup import AGREEMENT, HOME, IDENTITY, TOPICS, URL, activation_link, join, step

EMAIL = "camille.martin@example.org"
TERMS_WORDS = "J’accepte les conditions d’adhésion"
NEWSLETTER_WORDS = "Je souhaite recevoir la lettre d’information"


def records(read, *where) -> list[ConsentRecord]:
    return list(read().scalars(select(ConsentRecord).where(*where).order_by(ConsentRecord.id)))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def member(client, new_client, read):
    """A member who joined through the sign-up (newsletter ticked), activated and logged in."""
    join(client)
    visitor = new_client()
    visitor.get("/" + activation_link(read))
    return visitor


def the_user(read) -> User:
    return read().scalars(select(User).where(User.email == EMAIL)).one()


def consent_form(page: str, kind: str) -> str:
    """The action of the one-click button of consent ``kind`` on the account page."""
    item = re.search(rf'<li data-consent="{re.escape(kind)}"[^>]*>.*?</li>', page, re.S)
    assert item, f"no consent {kind!r} listed"
    action = re.search(r'<form method="post" action="([^"]+)"', item.group(0))
    assert action, f"no button for {kind!r}"
    return action.group(1)


def campaign_to_all(app, factory, subject: str) -> dict[str, str]:
    with transaction(app.extensions["engagement"].sessions) as session:
        number = campaigns.create(session, audience="all", subject=subject, body="Texte", author=None,
                                  now=utcnow()).id
    finished(factory, number)
    return messages(factory, number)


def test_signing_up_records_the_terms_and_the_newsletter_with_version_time_and_method(client, read):
    before = utcnow()
    join(client)
    after = utcnow()
    [instance] = instances(read(), "signup")
    newsletter, terms = sorted(records(read), key=lambda r: r.kind)
    assert (terms.kind, terms.given, terms.text, terms.document, terms.method, terms.locale) == (
        "terms", True, TERMS_WORDS, "/conditions-d-adhesion", "form:signup/agreement", "fr")
    page = legal.shown(read(), legal.MEMBERSHIP_TERMS)
    assert terms.version == sha256(f"{TERMS_WORDS}\x00{page.title}\n\n{page.body}")
    assert (newsletter.kind, newsletter.given, newsletter.text, newsletter.document) == (
        "newsletter", True, NEWSLETTER_WORDS, None)
    assert newsletter.version == sha256(NEWSLETTER_WORDS)  # no page linked: the words only
    for row in (terms, newsletter):
        assert row.instance_id == instance.id and row.user_id is None  # given before the account existed
        assert before - timedelta(seconds=1) <= row.at.replace(tzinfo=before.tzinfo) <= after
    user = the_user(read)
    assert {r.kind: r.given for r in consents.current(read(), user.id)} == {"terms": True, "newsletter": True}


def test_the_newsletter_box_starts_unticked_and_left_so_is_recorded_as_not_given(client, read):
    for data in (IDENTITY, HOME, TOPICS):
        step(client, data)
    client.get(URL)
    assert 'name="newsletter"' in client.last_html and checked(client.last_html, "newsletter") == set()
    step(client, {"terms": "y"})
    step(client, {}, "join")
    assert not the_user(read).has_newsletter
    assert [(r.kind, r.given) for r in records(read)] == [("newsletter", False), ("terms", True)]


def test_back_and_forth_records_the_same_answer_once_and_a_changed_one_again(client, read):
    for data in (IDENTITY, HOME, TOPICS, AGREEMENT):
        step(client, data)
    client.get(URL)
    assert helpers.state_of(client.last_html) == "check"
    assert client.post(f"{URL}/back", {"step": client.hidden("step")}).status_code == 303
    step(client, AGREEMENT)  # the same answers again
    assert len(records(read)) == 2
    client.post(f"{URL}/back", {"step": client.hidden("step", client.get(URL).get_data(as_text=True))})
    step(client, {"terms": "y"})  # the newsletter unticked this time
    assert [(r.kind, r.given) for r in records(read)] == [("newsletter", True), ("terms", True), ("newsletter", False)]


def test_a_new_text_of_the_linked_page_is_a_new_version(app, client, new_client, read):
    join(client)
    with transaction(app.extensions["engagement"].sessions) as session:
        pages.edit(session, legal.MEMBERSHIP_TERMS, title="Conditions d'adhésion", body="Article 1 : nouveau.",
                   now=utcnow(), actor_id=0)
    join(new_client(), {**IDENTITY, "email": "sam@example.org"})
    first, second = records(read, ConsentRecord.kind == "terms")
    assert first.text == second.text and first.version != second.version
    assert second.version == sha256(f"{TERMS_WORDS}\x00Conditions d'adhésion\n\nArticle 1 : nouveau.")
    newsletters = records(read, ConsentRecord.kind == "newsletter")
    assert newsletters[0].version == newsletters[1].version  # its words did not change


def test_the_account_lists_each_consent_with_its_words_state_and_date(client, new_client, read):
    visitor = member(client, new_client, read)
    page = text(visitor.get("/account").get_data(as_text=True))
    listed = re.search(r'<h2 id="consents">Vos consentements</h2>\s*<ul[^>]*>(.*?)</ul>', page, re.S)
    assert listed, page[:3000]
    assert TERMS_WORDS in listed.group(1) and NEWSLETTER_WORDS in listed.group(1)
    assert re.search(r"donné le \d{1,2} \w+ \d{4}", listed.group(1))  # a French date
    terms = re.search(r'<li data-consent="terms".*?</li>', listed.group(1), re.S).group(0)
    assert "<form" not in terms and 'href="#delete"' in terms and "supprimer votre compte" in terms
    assert 'id="delete"' in page


def test_withdrawing_the_newsletter_is_one_post_and_later_campaigns_to_all_skip_the_member(
        app, client, new_client, read, factory):
    visitor = member(client, new_client, read)
    assert campaign_to_all(app, factory, "Avant") == {EMAIL: "sent"}
    action = consent_form(visitor.get("/account").get_data(as_text=True), "newsletter")
    assert action == "/account/consents/newsletter/withdraw"
    response = visitor.post(action)
    assert response.status_code == 303 and response.headers["Location"] == "/account#consent-newsletter"
    assert not the_user(read).has_newsletter
    last = records(read)[-1]
    assert (last.kind, last.given, last.method, last.user_id, last.text) == (
        "newsletter", False, "account", the_user(read).id, NEWSLETTER_WORDS)
    page = text(visitor.get("/account").get_data(as_text=True))
    item = re.search(r'<li data-consent="newsletter".*?</li>', page, re.S).group(0)  # the message by the consent
    assert "Votre accord est retiré" in item and re.search(r"retiré le \d{1,2} \w+ \d{4}", item)
    assert campaign_to_all(app, factory, "Après") == {}
    assert visitor.post(action, page="/account").status_code == 303  # a second click records nothing
    assert len(records(read, ConsentRecord.kind == "newsletter")) == 2


def test_the_newsletter_is_given_again_from_the_account(app, client, new_client, read, factory):
    visitor = member(client, new_client, read)
    visitor.post(consent_form(visitor.get("/account").get_data(as_text=True), "newsletter"))
    action = consent_form(visitor.get("/account").get_data(as_text=True), "newsletter")
    assert action == "/account/consents/newsletter/give"
    assert visitor.post(action).status_code == 303
    assert the_user(read).has_newsletter
    assert [(r.given, r.method) for r in records(read, ConsentRecord.kind == "newsletter")] == [
        (True, "form:signup/agreement"), (False, "account"), (True, "account")]
    assert campaign_to_all(app, factory, "De retour") == {EMAIL: "sent"}


def test_the_membership_terms_are_left_by_deleting_the_account_not_withdrawn(client, new_client, read):
    visitor = member(client, new_client, read)
    visitor.get("/account")
    response = visitor.post("/account/consents/terms/withdraw")
    assert response.status_code == 400 and "supprimer votre compte" in text(visitor.last_html)
    assert len(records(read)) == 2 and count(read(), User) == 1


@pytest.mark.parametrize("url", ["/account/consents/nope/withdraw", "/account/consents/newsletter/explode",
                                 "/account/consents/charter/withdraw", "/account/consents/contact/give",
                                 f"/account/consents/{'x' * 300}/withdraw"])
def test_an_unknown_consent_or_action_answers_404(client, new_client, read, url):
    visitor = member(client, new_client, read)
    visitor.get("/account")
    assert visitor.post(url).status_code == 404
    assert len(records(read)) == 2 and the_user(read).has_newsletter


def test_a_form_consent_is_not_given_again_from_the_account(client, new_client, read):
    visitor = member(client, new_client, read)
    visitor.get("/account")
    assert visitor.post("/account/consents/terms/give").status_code == 400
    assert len(records(read)) == 2


def test_a_post_without_its_csrf_token_is_refused(client, new_client, read):
    visitor = member(client, new_client, read)
    visitor.get("/account")
    response = visitor.client.post("/account/consents/newsletter/withdraw")  # no token
    assert response.status_code == 400
    assert the_user(read).has_newsletter and len(records(read)) == 2


def test_a_profile_change_of_the_newsletter_is_recorded(client, new_client, read):
    visitor = member(client, new_client, read)
    edit = {"address-country": "FR", "address-street": "3 rue du Port", "address-postal_code": "13001"}
    visitor.get("/account/edit")
    assert visitor.post("/account/edit", edit).status_code == 303  # the box left unticked
    visitor.get("/account/edit")
    assert visitor.post("/account/edit", {**edit, "interests": ["health"]}).status_code == 303  # unchanged
    visitor.get("/account/edit")
    assert visitor.post("/account/edit", {**edit, "newsletter": "y"}).status_code == 303
    rows = records(read, ConsentRecord.kind == "newsletter")
    assert [(r.given, r.method) for r in rows] == [(True, "form:signup/agreement"), (False, "profile"),
                                                   (True, "profile")]
    assert rows[1].text == NEWSLETTER_WORDS and rows[1].user_id == the_user(read).id
    assert the_user(read).has_newsletter


def test_the_unsubscribe_link_of_a_campaign_withdraws_the_members_newsletter(app, client, new_client, read,
                                                                               factory):
    member(client, new_client, read)
    with transaction(app.extensions["engagement"].sessions) as session:  # the movement's mail to Thiais
        number = campaigns.create(session, audience="department:94", subject="Réunion", body="Texte", author=None,
                                  now=utcnow()).id
    finished(factory, number)
    user_id = the_user(read).id
    with app.app_context(), factory() as session:
        [message_id] = session.scalars(select(MailMessage.id).where(MailMessage.campaign_id == number))
        sent = mail.one(session, message_id)
    link = re.search(r"http://\S+(/unsubscribe/\S+)", sent.text_body).group(1)
    assert link.endswith(f"/{user_id}")
    other = new_client()
    other.get(link)
    assert other.post(link).status_code == 200
    assert not the_user(read).has_newsletter
    last = records(read)[-1]
    assert (last.kind, last.given, last.method, last.user_id) == ("newsletter", False, "unsubscribe", user_id)
    other.client.post(link)  # a mail client's one-click POST, again: nothing more
    assert len(records(read, ConsentRecord.kind == "newsletter")) == 2


def test_an_unsubscribe_link_naming_another_member_changes_nothing_for_them(app, client, new_client, read):
    member(client, new_client, read)
    user_id = the_user(read).id
    with app.app_context():
        link = mail.unsubscribe_link("lou@example.net", user_id).split("5000", 1)[1]  # Lou's link, Camille's id
    assert new_client().client.post(link).status_code == 200  # Lou is unsubscribed...
    assert the_user(read).has_newsletter and len(records(read)) == 2  # ...and Camille is not


def test_a_consent_of_any_workflow_is_recorded_for_the_member_who_gave_it(app, client, read):
    make_user(app, "dominique@example.org")
    log_in(client, "dominique@example.org")
    client.get(helpers.URL)
    for data in ({**helpers.IDENTITY, "email": "dominique@example.org"}, helpers.AVAILABILITY):
        helpers.advance(client, data)
    helpers.confirm(client)
    user_id = read().scalars(select(User.id).where(User.email == "dominique@example.org")).one()
    [charter] = records(read)
    assert (charter.kind, charter.given, charter.user_id, charter.document, charter.method) == (
        "charter", True, user_id, "/charte-des-benevoles", "form:volunteer/summary")
    client.get("/account")
    action = consent_form(client.last_html, "charter")
    assert action == "/account/consents/charter/withdraw" and client.post(action).status_code == 303
    assert [(r.kind, r.given, r.method) for r in records(read)][-1] == ("charter", False, "account")
    assert "retiré le" in text(client.get("/account").get_data(as_text=True))
