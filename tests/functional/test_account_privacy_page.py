"""The account page's privacy parts as a member meets them: a delete refused for want of the box says so at the
top of the page, the delete button looks destructive, a consent's change is confirmed next to it, and the page
after deleting says only what is true."""

from __future__ import annotations

import re

from engagement.accounts.models import User
from tests.functional.helpers import count, text
from tests.functional.test_event_registration import create_event, open_registration, press
from tests.functional.test_privacy_consents import consent_form, member

NBSP = "\u00a0"


def test_a_delete_without_the_box_ticked_is_summed_up_at_the_top_and_focused(client, new_client, read):
    visitor = member(client, new_client, read)
    visitor.get("/account")
    response = visitor.post("/account/delete", {})
    assert response.status_code == 422
    page = text(visitor.last_html)
    summary = re.search(r'<div class="error-summary"([^>]*)>(.*?)</div>', page, re.S)
    assert summary, page[:3000]
    assert 'role="alert"' in summary.group(1) and "autofocus" in summary.group(1)
    assert re.search(r'<a href="#confirm">Cochez la case pour confirmer\.</a>', summary.group(2))
    assert page.index('class="error-summary"') < page.index("<h1>Mon compte</h1>")  # first thing on the page
    assert 'id="confirm"' in page and "<title>Erreur" in page
    assert count(read(), User) == 1 and visitor.get("/account").status_code == 200  # nothing was erased


def test_no_summary_without_an_error_and_the_delete_button_is_a_warning(client, new_client, read):
    visitor = member(client, new_client, read)
    page = visitor.get("/account").get_data(as_text=True)
    assert "error-summary" not in page
    form = re.search(r'<form method="post" action="/account/delete".*?</form>', page, re.S).group(0)
    assert '<button type="submit" class="warning">' in form


def test_a_consent_change_is_confirmed_next_to_the_consent_not_at_the_top(client, new_client, read):
    visitor = member(client, new_client, read)
    response = visitor.post(consent_form(visitor.get("/account").get_data(as_text=True), "newsletter"))
    assert response.headers["Location"] == "/account#consent-newsletter"
    page = text(visitor.get("/account").get_data(as_text=True))
    item = re.search(r'<li data-consent="newsletter"[^>]*id="consent-newsletter">.*?</li>', page, re.S)
    assert item and "Votre accord est retiré" in item.group(0)
    assert page.count("Votre accord est retiré") == 1  # not at the top as well
    assert "Votre accord est retiré" not in text(visitor.get("/account").get_data(as_text=True))  # shown once


def test_the_deleted_page_says_what_is_true_whether_anyone_waited_or_not(app, client, new_client, read):
    visitor = member(client, new_client, read)
    slug = create_event(app, "Atelier", capacity=10)  # nobody waits for this one
    open_registration(visitor, slug)
    press(visitor, "register")
    visitor.post(consent_form(visitor.get("/account").get_data(as_text=True), "newsletter"))  # a withdrawal
    visitor.get("/account")
    assert visitor.post("/account/delete", {"confirm": "y"}).status_code == 303
    page = text(visitor.get("/account/deleted").get_data(as_text=True))
    assert (f"1 place à un événement à venir a été libérée{NBSP}: elle revient à la première personne de la liste "
            "d’attente, s’il y en a une.") in page
    assert "L’historique de vos consentements (3 enregistrements)." in page  # given, given, withdrawn
    assert f"Vos sessions{NBSP}: vous êtes déconnecté·e partout." in page
    assert "que vous aviez donnés" not in page and "la reçoit" not in page
