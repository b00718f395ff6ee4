"""Giving the newsletter back after an unsubscribe link: one click on /account lifts the link's entry on the
suppression list (never a bounce or a complaint, which the page then explains), and every record names the
newsletter itself, never the unsubscribe page's sentence."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from engagement.db import transaction, utcnow
from engagement.mail import service as mail
from engagement.mail import suppression
from engagement.mail.models import MailSuppression
from engagement.privacy.models import ConsentRecord
from tests.functional.helpers import checked, text
from tests.functional.test_privacy_consents import (
    EMAIL,
    NEWSLETTER_WORDS,
    campaign_to_all,
    consent_form,
    member,
    records,
    the_user,
)
from tests.functional.test_signup import activation_link, join

REFUSED = "Nous ne pouvons plus vous écrire\u00a0: votre messagerie a refusé nos messages."


def sessions_of(app):
    return app.extensions["engagement"].sessions


def unsubscribe(app, new_client, member_id: int | None) -> None:
    """Follow a campaign's unsubscribe link to the address (naming the member, or not) and confirm it."""
    with app.app_context():
        link = urlsplit(mail.unsubscribe_link(EMAIL, member_id)).path
    other = new_client()
    other.get(link)
    assert other.post(link).status_code == 200


def listed(page: str, kind: str = "newsletter") -> str:
    item = re.search(rf'<li data-consent="{kind}".*?</li>', text(page), re.S)
    assert item, page[:3000]
    return item.group(0)


def suppressed(read) -> str | None:
    row = read().get(MailSuppression, suppression.digest(EMAIL))
    return row.reason if row is not None else None


def test_giving_the_newsletter_back_after_an_unsubscribe_link_lifts_it(app, client, new_client, read, factory):
    visitor = member(client, new_client, read)
    unsubscribe(app, new_client, the_user(read).id)
    assert suppressed(read) == "unsubscribed" and campaign_to_all(app, factory, "Pendant") == {}
    page = visitor.get("/account").get_data(as_text=True)
    assert NEWSLETTER_WORDS in listed(page) and "Confirmez" not in text(page)  # the consent's name, not the page's
    action = consent_form(page, "newsletter")
    assert action == "/account/consents/newsletter/give"
    assert visitor.post(action).status_code == 303
    assert suppressed(read) is None and the_user(read).has_newsletter
    assert campaign_to_all(app, factory, "De retour") == {EMAIL: "sent"}
    rows = records(read, ConsentRecord.kind == "newsletter")
    assert [(r.given, r.method, r.text, r.document) for r in rows] == [
        (True, "form:signup/agreement", NEWSLETTER_WORDS, None), (False, "unsubscribe", NEWSLETTER_WORDS, None),
        (True, "account", NEWSLETTER_WORDS, None)]
    assert len({r.version for r in rows}) == 1  # the same words: the same version
    assert "donné le" in listed(visitor.get("/account").get_data(as_text=True))


def test_a_bounce_is_never_lifted_and_the_page_says_why_no_mail_comes(app, client, new_client, read, factory):
    visitor = member(client, new_client, read)
    with transaction(sessions_of(app)) as session:
        suppression.suppress(session, EMAIL, "bounced", "mailjet", utcnow())
    page = visitor.get("/account").get_data(as_text=True)
    assert REFUSED in listed(page)
    visitor.post(consent_form(page, "newsletter"))  # withdraw...
    page = visitor.get("/account").get_data(as_text=True)
    assert visitor.post(consent_form(page, "newsletter")).status_code == 303  # ...and give it back
    assert suppressed(read) == "bounced" and the_user(read).has_newsletter
    assert REFUSED in listed(visitor.get("/account").get_data(as_text=True))
    assert campaign_to_all(app, factory, "Rebond") == {EMAIL: "suppressed"}


def test_a_link_that_named_no_member_shows_the_newsletter_stopped_and_one_click_gives_it_back(
        app, client, new_client, read, factory):
    visitor = member(client, new_client, read)
    unsubscribe(app, new_client, None)  # the address is off the campaigns, the account not told
    assert the_user(read).has_newsletter and suppressed(read) == "unsubscribed"
    page = visitor.get("/account").get_data(as_text=True)
    assert 'data-given="no"' in listed(page) and "<dd>Non</dd>" in page  # as campaigns see it
    assert checked(visitor.get("/account/edit").get_data(as_text=True), "newsletter") == set()
    assert visitor.post(consent_form(page, "newsletter")).status_code == 303
    assert suppressed(read) is None
    assert [(r.given, r.method) for r in records(read, ConsentRecord.kind == "newsletter")][-1] == (True, "account")
    assert campaign_to_all(app, factory, "Retour") == {EMAIL: "sent"}


def test_the_words_follow_the_members_language(app, client, new_client, read):
    visitor = member(client, new_client, read)
    visitor.client.set_cookie("lang", "en")
    page = visitor.get("/account").get_data(as_text=True)
    assert "I want to receive the newsletter" in listed(page)
    visitor.post(consent_form(page, "newsletter"))
    last = records(read)[-1]
    assert (last.text, last.locale, last.method) == ("I want to receive the newsletter", "en", "account")


def test_signing_up_again_with_the_newsletter_ticked_lifts_an_old_unsubscribe(app, client, new_client, read,
                                                                               factory):
    with transaction(sessions_of(app)) as session:  # unsubscribed from an earlier list, before joining
        suppression.suppress(session, EMAIL, "unsubscribed", "link", utcnow())
    join(client)
    assert suppressed(read) == "unsubscribed"  # not before the address is proven theirs
    new_client().get("/" + activation_link(read))
    assert suppressed(read) is None
    assert campaign_to_all(app, factory, "Bienvenue") == {EMAIL: "sent"}
    assert read().scalars(select(ConsentRecord.given).where(ConsentRecord.kind == "newsletter")).all() == [True]
