"""Confirmation pages that lead somewhere (issue #20): each finished workflow says what was done and what
happens next, and links onward; a restart is never the main button. Real forms with CSRF; the flows are
walked page by page (each page's data-state), whatever steps they have."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from engagement.accounts import tokens
from engagement.accounts.models import User
from engagement.accounts.service import create_user
from engagement.committees import service as committees
from engagement.db import transaction, utcnow
from engagement.events import service as events
from engagement.events import wording
from engagement.workflow.models import WorkflowInstance
from tests.functional.helpers import count, input_value, instances, mails, state_of, text
from tests.functional.invitation_steps import FRIEND, INTERESTS, PROJECT, REASONS, SELF, log_in, make_user
from tests.functional.test_event_registration import create_event, open_registration
from tests.functional.test_no_account_enumeration import blanked

EMAIL = "camille.martin@example.org"
SIGNUP = {
    "identity": {"first_name": "Camille", "last_name": "Martin", "email": EMAIL,
                 "password": "une phrase de passe solide", "birth_date": "1990-05-17"},
    "home": {"address-country": "FR", "address-street": "12 avenue de Versailles", "address-postal_code": "94320",
             "address-city": "94073"},
    "topics": {"interests": ["ecology"]},
    "agreement": {"terms": "y"},
}
FRIEND_EMAIL = "camille@example.net"
INVITATION = {"friend": FRIEND, "project": PROJECT, "interests": INTERESTS, "reasons": REASONS,
              "summary": {**SELF, "friend_email": FRIEND_EMAIL}}
PARIS_14 = {"street": "1 avenue du Maine", "postal_code": "75014", "city": "75114",
            "city_name": "Paris 14e Arrondissement", "country": "FR"}
LYON = {"street": "3 place Bellecour", "postal_code": "69002", "city": "69382",
        "city_name": "Lyon 2e Arrondissement", "country": "FR"}


# --- Walking a flow, reading a confirmation page ----------------------------------------------------

def finish(client: Any, workflow_id: str, answers: dict[str, dict[str, Any]], start: str | None = None) -> str:
    """Walk a workflow as a browser: on each page shown, answer its fields (kept values, prefilled
    summaries included) and press its main button, until the page has no step form: the confirmation."""
    url = f"/w/{workflow_id}"
    client.get(start or url)
    for _ in range(15):
        page = client.last_html
        state = state_of(page)
        if state is None:
            return page
        trigger = re.search(r'<button type="submit" name="trigger" value="([^"]+)" class="primary"', page)
        assert trigger, text(page)[:1500]
        kept = {name: input_value(page, name) for name in ("message_subject",) if input_value(page, name)}
        body = re.search(r'<textarea\b[^>]*name="message_body"[^>]*>(.*?)</textarea>', page, re.S)
        if body:
            kept["message_body"] = text(body.group(1)).lstrip("\r\n")
        response = client.post(url, {**kept, **answers.get(state, {}), "trigger": trigger.group(1)})
        assert response.status_code == 303, text(client.last_html)[:1500]
        client.get(url)
    raise AssertionError("the flow did not end")


def confirmation_state(page: str) -> str | None:
    found = re.search(r'<h1 data-state="([^"]+)"', page)
    return found.group(1) if found else None


def form_of(page: str, action: str) -> str | None:
    found = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>.*?</form>', page, re.S)
    return found.group(0) if found else None


def restart_is_never_the_main_button(page: str) -> None:
    assert "Recommencer" not in page and "Start again" not in page
    for form in re.findall(r'<form method="post" action="/w/[a-z_]+/restart".*?</form>', page, re.S):
        assert re.findall(r"<button\b[^>]*>", form) == ['<button type="submit" class="link">'], form


def press_form(client: Any, page: str, action: str) -> Any:
    """Submit one of the page's forms as it is (its hidden inputs, its CSRF token)."""
    form = form_of(page, action)
    assert form, f"no form posting to {action}"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    return client.post(action, fields)


def activation_path(read: Any) -> str:
    """The link of the last activation mail in the outbox."""
    found = [m for m in re.findall(r"/account/activate/[A-Za-z0-9_\-]+", "\n".join(
        m.text_body for m in mails(read()))) if not m.endswith("/resend")]
    assert found, "no activation mail"
    return found[-1]


# --- Sign-up ----------------------------------------------------------------------------------------

def test_the_signup_confirmation_names_the_address_and_leads_on(client, read):
    page = finish(client, "signup", SIGNUP)
    assert confirmation_state(page) == "done" and "Vérifiez votre boîte mail" in text(page)
    assert f"<strong>{EMAIL}</strong>" in page
    assert form_of(page, "/account/activate/resend") and input_value(page, "email") == EMAIL
    assert 'href="/events"' in page and 'href="/committees"' in page
    restart_is_never_the_main_button(page)
    assert count(read(), User) == 1


def test_an_address_that_already_has_an_account_gets_the_same_confirmation(app, new_client, read):
    with transaction(app.extensions["engagement"].sessions) as session:
        create_user(session, EMAIL, password="un autre mot de passe")
    other = "dominique.durand@example.org"
    known = finish(new_client(), "signup", SIGNUP)
    unknown = finish(new_client(), "signup", {**SIGNUP, "identity": {**SIGNUP["identity"], "email": other}})
    assert f"<strong>{EMAIL}</strong>" in known
    assert blanked(known, EMAIL) == blanked(unknown, other)


def test_resending_mails_one_more_link_then_answers_the_same_past_the_hourly_cap(client, read):
    page = finish(client, "signup", SIGNUP)
    sent = press_form(client, page, "/account/activate/resend")
    assert sent.status_code == 200 and "nouveau lien" in text(client.last_html)
    assert [m.to for m in mails(read())] == [[EMAIL]] * 2
    first_answer = text(client.last_html)
    press_form(client, page, "/account/activate/resend")  # the third link of the hour: the cap
    assert len(mails(read())) == tokens.PER_ADDRESS_HOURLY
    capped = press_form(client, page, "/account/activate/resend")
    assert capped.status_code == 200 and text(client.last_html) == first_answer
    assert len(mails(read())) == tokens.PER_ADDRESS_HOURLY
    assert client.get(activation_path(read)).status_code == 200


def test_a_wrong_address_signs_up_again_and_the_first_account_stays_inactive(client, read):
    page = finish(client, "signup", SIGNUP)
    assert "Adresse erronée" in text(page)
    response = press_form(client, page, "/w/signup/restart")
    assert response.status_code == 303
    client.get("/w/signup")
    assert state_of(client.last_html) == "identity" and input_value(client.last_html, "email") == ""
    again = finish(client, "signup", {**SIGNUP, "identity": {**SIGNUP["identity"], "email": "camille@example.net"}},
                   start="/w/signup")
    assert "<strong>camille@example.net</strong>" in again
    session = read()
    assert sorted((u.email, u.activated_at) for u in session.query(User)) == [
        ("camille.martin@example.org", None), ("camille@example.net", None)]
    assert [i.is_completed for i in instances(session, "signup")] == [True, True]


def test_the_address_is_not_shown_to_someone_else_in_the_same_browser(client, app, read):
    finish(client, "signup", SIGNUP)
    make_user(app, "dominique@example.org")
    log_in(client, "dominique@example.org")
    client.get("/w/signup")
    page = client.last_html
    assert confirmation_state(page) == "done" and EMAIL not in page
    assert form_of(page, "/account/activate/resend") is None and 'href="/account/activate/resend"' in page


def test_the_address_is_no_longer_shown_once_the_page_is_old(client, app, read):
    finish(client, "signup", SIGNUP)
    with transaction(app.extensions["engagement"].sessions) as session:
        session.execute(update(WorkflowInstance).values(completed_at=utcnow() - timedelta(hours=2)))
    client.get("/w/signup")
    assert confirmation_state(client.last_html) == "done" and EMAIL not in client.last_html


# --- After activation -------------------------------------------------------------------------------

def _committee(app: Any, name: str, address: dict[str, str]) -> None:
    host = make_user(app, f"host-{len(name)}-{address['postal_code']}@example.org")
    with transaction(app.extensions["engagement"].sessions) as session:
        row = committees.propose(session, name=name, description="", address=address, creator_id=host, now=utcnow())
        committees.decide(session, row, True, utcnow())


def test_activation_shows_the_nearest_committee_the_next_events_near_and_the_invitation(client, new_client, app,
                                                                                        read):
    _committee(app, "Comité de Paris 14", PARIS_14)
    _committee(app, "Comité de Lyon", LYON)
    create_event(app, "Réunion à Paris dans deux semaines", address=PARIS_14, starts_in=timedelta(days=14))
    create_event(app, "Porte-à-porte à Paris demain", address=PARIS_14, starts_in=timedelta(days=1))
    create_event(app, "Débat à Lyon", address=LYON, starts_in=timedelta(days=2))
    create_event(app, "Réunion passée", address=PARIS_14, starts_in=timedelta(days=-2))
    finish(client, "signup", SIGNUP)
    member = new_client()
    assert member.get(activation_path(read)).status_code == 200
    page = text(member.last_html)
    assert "Bienvenue, Camille" in page and "Comité de Paris 14" in page and "Comité de Lyon" not in page
    assert page.index("Porte-à-porte à Paris demain") < page.index("Réunion à Paris dans deux semaines")
    assert "Débat à Lyon" not in page and "Réunion passée" not in page
    assert "Paris 14e Arrondissement" in page and re.search("à \\d+\u00a0km", page)  # Thiais to Paris 14e
    with transaction(app.extensions["engagement"].sessions) as session:
        soon = events.upcoming(session, utcnow())[0]
        assert wording.when(soon, "fr") in page  # "mardi 8 décembre 2026 à 19:30", Europe/Paris
    assert 'href="/invitation"' in member.last_html


def test_activation_with_nothing_near_says_so_and_links_to_the_lists(client, new_client, app, read):
    _committee(app, "Comité de Lyon", LYON)
    create_event(app, "Débat à Lyon", address=LYON)
    finish(client, "signup", SIGNUP)
    member = new_client()
    member.get(activation_path(read))
    page = text(member.last_html)
    assert "Il n’y a pas encore de comité près de chez vous" in page
    assert "Aucun événement à venir près de chez vous pour l’instant" in page
    assert 'href="/committees"' in page and 'href="/events"' in page and 'href="/invitation"' in page


def test_activation_of_a_member_without_an_address_in_france_says_so(client, app):
    with transaction(app.extensions["engagement"].sessions) as session:
        user = create_user(session, "lou@example.org")
        user.first_name, user.activated_at, user.address = "Lou", None, {"country": "BE", "street": "1 rue Haute"}
        session.flush()
        token = tokens.issue(session, user, "activation", utcnow())
    assert client.get(f"/account/activate/{token}").status_code == 200
    page = text(client.last_html)
    assert "Bienvenue, Lou" in page and "ne nous dit pas où vous êtes" in page
    assert "Il n’y a pas encore de comité" not in page
    assert 'href="/committees"' in page and 'href="/events"' in page and 'href="/invitation"' in page


# --- Event registration -----------------------------------------------------------------------------

VISITOR = {"details": {"first_name": "Camille", "last_name": "Martin", "email": "camille@example.org",
                       "postal_code": "75011", "terms": "y"}}


def test_the_registration_confirmation_repeats_when_and_where_with_the_calendar_and_the_event(client, app, read):
    slug = create_event(app, "Réunion publique à Paris", address=PARIS_14)
    open_registration(client, slug)
    page = finish(client, "event_registration", VISITOR, start="/w/event_registration")
    assert confirmation_state(page) == "registered"
    with transaction(app.extensions["engagement"].sessions) as session:
        when = wording.when(events.by_slug(session, slug), "fr")
    assert re.search(r"\w+ \d{1,2} \w+ 20\d\d à \d\d:\d\d", when)
    assert when in text(page) and "1 avenue du Maine, 75014 Paris 14e Arrondissement" in text(page)
    assert f'href="/events/{slug}.ics"' in page and f'href="/events/{slug}"' in page
    restart_is_never_the_main_button(page)


def test_an_online_event_confirmation_says_online(client, app):
    slug = create_event(app, "Visio de rentrée", address=None, online_url="https://visio.example.org/rentree")
    open_registration(client, slug)
    page = text(finish(client, "event_registration", VISITOR, start="/w/event_registration"))
    assert re.search(r"<dt>Où</dt><dd>En ligne</dd>", page)


# --- Invitation -------------------------------------------------------------------------------------

def test_the_invitation_confirmation_says_to_whom_and_offers_another_friend(client, read):
    page = finish(client, "invitation", INVITATION)
    assert confirmation_state(page) == "sent"
    assert f"<strong>{FRIEND_EMAIL}</strong>" in page and "Camille" in text(page)
    assert "Convaincre un autre ami" in text(page) and 'href="/events"' in page
    restart_is_never_the_main_button(page)
    assert press_form(client, page, "/w/invitation/restart").status_code == 303
    client.get("/w/invitation")
    assert state_of(client.last_html) == "friend"
    assert [i.is_completed for i in instances(read(), "invitation")] == [True, False]


# --- Any workflow -----------------------------------------------------------------------------------

def test_the_generic_confirmation_page_has_a_panel_and_links_and_no_restart(client):
    page = finish(client, "volunteer", {
        "identity": {"first_name": "Camille", "email": "camille@example.org", "age": "30"},
        "availability": {"missions": ["events"]},
        "summary": {"terms": "y"},
    })
    assert confirmation_state(page) is not None and '<div class="confirmation">' in page
    assert "/restart" not in page and 'href="/"' in page
    restart_is_never_the_main_button(page)
