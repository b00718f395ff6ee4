"""Information at collection (GDPR art. 13 and 14): the notice on every step and page that collects personal data,
the generic notice of an organizer's own workflow, the invitation mail's paragraph for the friend, and the privacy
notice page saying the same periods (engagement/privacy/notices.py, templates/_privacy_notice.html)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engagement import PROJECT_ROOT
from tests.functional.helpers import AVAILABILITY as VOLUNTEER_AVAILABILITY
from tests.functional.helpers import GUARDIAN, MINOR, SUMMARY, mails, state_of, text
from tests.functional.helpers import IDENTITY as VOLUNTEER_IDENTITY
from tests.functional.invitation_steps import (
    FRIEND,
    INTERESTS,
    PROJECT,
    REASONS,
    SELF,
    invite,
    log_in,
    make_user,
    textarea,
)
from tests.functional.test_committees import committee
from tests.functional.test_event_registration import create_event

PRIVACY_LINK = 'href="/confidentialite"'
CONFIGURED = {"PRIVACY_CONTROLLER": "Agir ensemble", "PRIVACY_DPO_EMAIL": "dpo@agir.example.org",
              "RETENTION_INVITATION_FRIEND_DAYS": "45", "RETENTION_INACTIVE_MEMBER_DAYS": "730"}
SIGNUP = {"first_name": "Camille", "last_name": "Martin", "email": "camille.martin@example.org",
          "password": "une phrase de passe solide", "birth_date": "1990-05-17"}
HOME = {"address-country": "FR", "address-street": "12 avenue de Versailles", "address-postal_code": "94320"}
# (state, answers, trigger) of a walk through each shipped workflow; a state in NO_NOTICE asks nothing personal.
WALKS: dict[str, list[tuple[str, dict[str, Any], str]]] = {
    "signup": [("identity", SIGNUP, "next"), ("home", HOME, "next"), ("topics", {"interests": ["ecology"]}, "next"),
               ("agreement", {"terms": "y"}, "next"), ("check", {}, "join")],
    "invitation": [("friend", FRIEND, "next"), ("project", PROJECT, "next"), ("interests", INTERESTS, "next"),
                   ("reasons", REASONS, "next"), ("summary", SELF, "next"), ("check", {}, "send")],
    "volunteer": [("identity", VOLUNTEER_IDENTITY, "next"), ("availability", VOLUNTEER_AVAILABILITY, "next"),
                  ("summary", SUMMARY, "next"), ("check", {}, "confirm")],
    "volunteer_minor": [("identity", MINOR, "next"), ("availability", VOLUNTEER_AVAILABILITY, "next"),
                        ("guardian", GUARDIAN, "next"), ("summary", SUMMARY, "next"), ("check", {}, "confirm")],
}
NO_NOTICE = {"signup": {"topics"}, "invitation": {"project", "interests", "reasons"}}
WORDS = {  # what the notice says in each language
    "fr": ("Vos données personnelles", "Politique de confidentialité", "En savoir plus", "Responsable du traitement",
           "Base légale", "Durée de conservation", "rectification", "portabilité", "CNIL"),
    "en": ("Your personal data", "Privacy notice", "Learn more", "Controller", "Legal basis", "How long",
           "correction", "portability", "CNIL"),
}


@pytest.fixture
def env(env: dict[str, str], request: pytest.FixtureRequest) -> dict[str, str]:
    """The deployment's environment, plus what a test asks for (``indirect`` parameters)."""
    env.update(getattr(request, "param", {}))
    return env


def notice(page: str) -> str | None:
    """The privacy notice of a page (its HTML, entities decoded), or None."""
    found = re.search(r'<aside class="privacy-notice"[^>]*data-testid="privacy-notice">(.*?)</aside>', page, re.S)
    return text(found.group(1)) if found else None


def in_language(client: Any, locale: str) -> Any:
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = locale
    return client


def walk(client: Any, workflow: str, steps: list[tuple[str, dict[str, Any], str]]) -> dict[str, str]:
    """Answer each step in turn; the page of each state, as shown before it was answered."""
    url, pages = f"/w/{workflow}", {}
    for state, answers, trigger in steps:
        client.get(url)
        page = client.last_html
        assert state_of(page) == state, text(page)[:1500]
        pages[state] = page
        if state == "summary" and workflow == "invitation":  # the composed message, sent as written
            answers = {**answers, "message_subject": re.search(r'name="message_subject"[^>]*value="([^"]*)"',
                                                                page).group(1),
                       "message_body": textarea(page, "message_body")}
        response = client.post(url, {**answers, "trigger": trigger})
        assert response.status_code == 303, text(client.last_html)[:1500]
    return pages


# -- the shipped workflows ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("walk_name", WALKS)
def test_every_step_asking_personal_data_shows_the_notice_and_the_others_do_not(client, locale, walk_name):
    workflow = walk_name.removesuffix("_minor")
    pages = walk(in_language(client, locale), workflow, WALKS[walk_name])

    for state, page in pages.items():
        shown = notice(page)
        if state in NO_NOTICE.get(workflow, ()):
            assert shown is None, f"{workflow}/{state}"
            continue
        assert shown is not None, f"{workflow}/{state} has no privacy notice"
        assert PRIVACY_LINK in shown and "Engagement" in shown, state  # the controller: MAIL_SENDER's name
        for words in WORDS[locale]:
            assert words in shown, (state, words)
        assert 'href="/contact"' in shown  # no DPO address configured: the contact page
        # The notice sits in the step's form, before its buttons.
        form = re.search(r'<form method="post"[^>]*data-state=.*?</form>', page, re.S).group(0)
        assert form.index('data-testid="privacy-notice"') < form.index('name="trigger"')


def test_each_shipped_workflow_says_its_own_purpose_and_periods(client, new_client):
    pages = walk(client, "signup", WALKS["signup"][:1])
    shown = notice(pages["identity"])
    assert "créer votre compte d’adhérent et vous relier à votre comité local" in shown
    assert "Un compte non activé dans les 30\u00a0jours est supprimé" in shown
    assert "supprimé après 3\u00a0ans sans connexion" in shown
    assert "L’adhésion que vous demandez" in shown and "art. 9.2.d" in shown

    pages = walk(new_client(), "invitation", WALKS["invitation"][:1])
    shown = notice(pages["friend"])
    assert "composer votre message et l’envoyer à votre ami" in shown
    assert ("Votre message, votre nom et votre adresse, l’adresse et le prénom de votre ami\u00a0: 30\u00a0jours, "
            "puis seulement une empreinte") in shown  # a visitor's own name and address go with the friend's
    assert "Votre consentement, donné en envoyant ce formulaire" in shown and "art. 6.1.a et 9.2.a" in shown

    pages = walk(new_client(), "volunteer", WALKS["volunteer"][:1])
    assert "organiser votre bénévolat avec l’équipe locale" in notice(pages["identity"])


def test_a_visitor_registering_for_an_event_is_told_where_the_details_go(client, app):
    slug = create_event(app)
    client.get(f"/events/{slug}/register")
    client.get("/w/event_registration")
    assert state_of(client.last_html) == "details"
    shown = notice(client.last_html)
    assert shown and PRIVACY_LINK in shown
    assert "vous inscrire à l’événement et transmettre vos coordonnées à ses organisateurs" in shown
    assert ("votre nom et votre adresse sur l’inscription\u00a0: 90\u00a0jours après l’événement, puis seulement "
            "le nombre de participants") in shown


def test_a_member_is_told_on_the_one_click_registration_and_in_the_wizard(client, app):
    make_user(app, "dominique@example.org")
    log_in(client, "dominique@example.org")
    slug = create_event(app)

    client.get(f"/events/{slug}")
    shown = notice(client.last_html)
    assert shown and PRIVACY_LINK in shown and "transmettre vos coordonnées à ses organisateurs" in shown
    assert "Votre adhésion\u00a0: un mouvement politique peut traiter les données de ses membres" in shown
    assert 'href="/account/data"' in shown and 'href="/account"' in shown  # their own tools

    client.get(f"/events/{slug}/register")
    client.get("/w/event_registration")
    assert state_of(client.last_html) == "confirm"  # one click, no field: it still records a registration
    assert PRIVACY_LINK in notice(client.last_html)


def test_a_visitor_sees_no_notice_on_an_event_page_without_a_form(client, app):
    slug = create_event(app)
    client.get(f"/events/{slug}")
    assert client.last_html and notice(client.last_html) is None  # the Register link leads to the wizard's


# -- an organizer's own workflow ------------------------------------------------------------------------------------

@pytest.fixture
def trip(env: dict[str, str]) -> dict[str, str]:
    env["ENGAGEMENT_WORKFLOWS_DIR"] = str(PROJECT_ROOT / "tests" / "fixtures" / "workflows" / "navigation")
    return env


@pytest.mark.parametrize(("locale", "title", "purpose"), [
    ("fr", "«\u00a0Partir en mission\u00a0»", "traiter vos réponses au formulaire"),
    ("en", "“Go on a mission”", "process your answers to the form"),
])
def test_a_workflow_of_the_organizers_gets_the_generic_notice_naming_its_title(trip, client, locale, title, purpose):
    in_language(client, locale).get("/w/trip")
    assert state_of(client.last_html) == "contact"
    shown = notice(client.last_html)
    assert shown is not None and PRIVACY_LINK in shown
    assert f"{purpose} {title}" in shown
    for words in WORDS[locale]:
        assert words in shown, words


def test_a_member_reads_the_members_basis_on_a_workflow_of_the_organizers(trip, app, client):
    make_user(app, "dominique@example.org")
    log_in(client, "dominique@example.org")
    client.get("/w/trip")
    shown = notice(client.last_html)
    assert "Votre adhésion\u00a0:" in shown and "Tant que vous êtes adhérent" in shown
    assert "Votre consentement" not in shown


# -- the site's own forms ----------------------------------------------------------------------------------------

def test_the_profile_page_shows_the_notice(client, app):
    make_user(app, "dominique@example.org")
    log_in(client, "dominique@example.org")
    response = client.get("/account/edit")
    assert response.status_code == 200
    shown = notice(client.last_html)
    assert shown and PRIVACY_LINK in shown and "gérer votre adhésion" in shown
    in_language(client, "en").get("/account/edit")
    assert "manage your membership" in notice(client.last_html)


def test_proposing_and_following_a_committee_show_the_notice_until_followed(client, app):
    host = make_user(app, "hote@example.org")
    make_user(app, "dominique@example.org")
    log_in(client, "dominique@example.org")
    client.get("/committees/new")
    assert "examiner votre proposition, puis publier le comité" in notice(client.last_html)

    slug = committee(app, "Comité du 1er", host)
    client.get(f"/committees/{slug}")
    assert "vous envoyer les nouvelles de ce comité" in notice(client.last_html)
    client.post(f"/committees/{slug}/follow", {})
    client.get(f"/committees/{slug}")
    assert "You follow this committee" not in client.last_html and "Vous suivez ce comité" in text(client.last_html)
    assert notice(client.last_html) is None  # already one of its followers: nothing more is collected


def test_pages_that_collect_nothing_personal_show_no_notice(client):
    for url in ("/login", "/password/reset", "/", "/events"):
        client.get(url)
        assert notice(client.last_html) is None, url


# -- the invitation mail -----------------------------------------------------------------------------------------------

def test_the_invitation_mail_tells_the_friend_why_what_is_kept_and_how_to_never_receive_one(client, read):
    invite(client)
    [message] = mails(read())
    body = message.text_body
    assert "Pourquoi ce message\u00a0? Dominique Durand (dominique@example.org) nous a donné\nvotre adresse" in body
    assert "Nous gardons\nvotre adresse et votre prénom 30\u00a0jours, puis seulement une empreinte" in body
    assert "pour que personne ne vous invite de nouveau trop souvent" in body
    optout = re.search(r"Pour ne plus jamais recevoir d’invitation de notre part\u00a0: (http://\S+/invitation/optout/\S+)",
                       body)
    assert optout, body
    assert "Vos données et vos droits\u00a0: http://127.0.0.1:5000/confidentialite" in body
    html = message.html_body
    assert "<strong>Pourquoi ce message\u00a0?</strong>" in html and "30\u00a0jours" in html
    assert f'<p><a href="{optout.group(1)}">Ne plus jamais recevoir d’invitation</a></p>' in html  # on its own line
    assert message.headers["List-Unsubscribe"] == f"<{optout.group(1)}>"


def test_the_invitation_mail_in_english(client, read):
    invite(in_language(client, "en"))
    [message] = mails(read())
    assert "Why this message? Dominique Durand (dominique@example.org) gave us your\naddress" in message.text_body
    assert "and first name for 30 days, then only a fingerprint of your address" in message.text_body
    assert "To never receive an invitation from us again: http://" in message.text_body
    assert ">Never receive an invitation again</a></p>" in message.html_body


# -- the configuration --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("env", [CONFIGURED], indirect=True)
def test_the_configured_controller_dpo_and_periods_are_what_the_notice_the_mail_and_the_page_say(client, new_client,
                                                                                             read):
    client.get("/w/signup")
    shown = notice(client.last_html)
    assert "Agir ensemble les utilise pour" in shown and "Engagement" not in shown
    assert 'href="mailto:dpo@agir.example.org"' in shown and "supprimé après 2\u00a0ans sans connexion" in shown

    invite(new_client())
    [message] = mails(read())
    assert "votre prénom 45\u00a0jours, puis" in message.text_body

    visitor = new_client()
    visitor.get("/confidentialite")
    page = text(visitor.last_html)
    assert "Le responsable du traitement est Agir ensemble, association" in page
    assert "délégué à la protection des données (DPO) à l’adresse dpo@agir.example.org" in page
    assert "Un compte inutilisé pendant 2\u00a0ans est supprimé" in page and "{inactive}" not in page
    assert "Adresse et prénom d’un proche invité, et le message qui lui était destiné\u00a0: 45\u00a0jours" in page


def test_the_privacy_page_states_the_default_periods_recipients_and_rights(client):
    client.get("/confidentialite")
    page = text(client.last_html)
    for needed in ("inutilisé pendant 3\u00a0ans", "supprimée après 30\u00a0jours", "effacées 90\u00a0jours après",
                   "destiné\u00a0: 30\u00a0jours", "Mailjet", "Algolia", "Stripe", "/account/data",
                   "supprimez votre compte", "CNIL", "[adresse e-mail du DPO]", "[nom de l’association]"):
        assert needed in page, needed
    assert not re.search(r"\{[a-z]+\}", page)  # every period marker filled in
