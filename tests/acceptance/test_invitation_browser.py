"""Convincing a friend (workflows/invitation.yml) in a real browser: the one mail, the join link, the opt-out.

The mails are read back from the live server's database (table mail_messages). Their links are
built on SITE_URL (http://127.0.0.1:5000 by default), so only their path is followed, on the live server.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from engagement.accounts.service import create_user
from engagement.config import Settings
from engagement.db import make_engine, make_session_factory, transaction
from engagement.mail.models import MailMessage
from tests.acceptance.conftest import _open
from tests.acceptance.steps import heading, press
from tests.acceptance.test_signup_browser import EMAIL as SIGNUP_EMAIL
from tests.acceptance.test_signup_browser import join as sign_up

URL = "/invitation"
FRIEND_NAME = "Camille"
FRIEND_EMAIL = SIGNUP_EMAIL  # the friend joins with test_signup_browser's identity (Camille Martin)
SUPPORTER = {"first": "Dominique", "last": "Durand", "email": "dominique.durand@example.org"}
PASSWORD = "une phrase de passe solide"
EXACTLY_TWO_INTERESTS = "Choisissez 2 sujets"
OPTED_OUT = "Cette personne a demandé à ne plus recevoir nos invitations."  # REFUSALS["invitation_opted_out"]
SUBJECT = "Camille, on en parle samedi ?"
POSTSCRIPT = "PS : je t'attends samedi au marché, on en discute autour d'un café."


# --- the live server's database ---------------------------------------------------------------

@dataclass(frozen=True)
class Mail:
    sender: str
    to: list[str]
    cc: list[str]
    reply_to: str | None
    subject: str
    text_body: str
    html_body: str | None
    headers: dict[str, str]


def stored_mails(settings: Settings, at_least: int = 0) -> list[Mail]:
    """Every row of mail_messages, oldest first, once there are ``at_least`` (for 5 s at most: account mail, an
    activation link, is composed just after the answer that caused it)."""
    engine = make_engine(settings.database_url)
    try:
        for _ in range(50):
            with make_session_factory(engine)() as session:
                rows = list(session.scalars(select(MailMessage).order_by(MailMessage.id)))
            if len(rows) >= at_least:
                break
            time.sleep(0.1)
        return [Mail(m.sender, list(m.to), list(m.cc or []), m.reply_to, m.subject, m.text_body, m.html_body,
                     dict(m.headers or {})) for m in rows]
    finally:
        engine.dispose()


def create_member(settings: Settings, first: str, last: str, email: str) -> None:
    """An activated account, made as an operator would, in the live server's database."""
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            user = create_user(session, email, password=PASSWORD)
            user.first_name, user.last_name = first, last
    finally:
        engine.dispose()


def link_in(body: str, kind: str) -> str:
    """The path of the /invitation/<kind>/<token> link a mail carries (its host is SITE_URL's)."""
    found = re.search(rf"https?://\S+/invitation/{kind}/[A-Za-z0-9_.\-]+", body)
    assert found, f"no {kind} link in:\n{body}"
    return urlsplit(found.group(0)).path


# --- what the supporter does --------------------------------------------------------------------

@pytest.fixture
def other_page(browser: Browser, live_server: str) -> Iterator[Page]:
    """Somebody else, in their own browser (cookies of their own), JavaScript on."""
    yield from _open(browser, live_server)


def field(page: Page, name: str) -> Locator:
    """The block of one form field: label, control and the error shown next to it."""
    return page.locator(f'[data-field="{name}"]')


def describe_the_friend(page: Page, first_name: str = FRIEND_NAME) -> None:
    page.goto(URL)
    expect(page).to_have_url(re.compile(r"/w/invitation/friend$"))
    expect(heading(page)).to_have_text("Votre ami")
    page.get_by_label("Son prénom").fill(first_name)
    page.get_by_label("Son âge").fill("34")
    page.get_by_label("Votre ami est").select_option("female")
    page.get_by_label("Sa situation").select_option("teacher")
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Son projet")
    page.get_by_label("En ce moment, son projet de vie, c’est").select_option("start_family")
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Ses centres d’intérêt")


def tick_two_interests_and_reasons(page: Page) -> None:
    expect(heading(page)).to_have_text("Ses centres d’intérêt")
    page.get_by_label("Écologie", exact=True).check()
    page.get_by_label("Éducation", exact=True).check()
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Vos raisons")
    page.get_by_label("Je veux agir près de chez moi").check()
    page.get_by_label("Je préfère agir plutôt que râler").check()
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Votre message")


def message_body(page: Page) -> Locator:
    return page.get_by_label("Message", exact=True)


def edit_the_message(page: Page) -> None:
    """The composed message greets the friend and can be changed: new subject, one sentence more."""
    expect(page.locator("form[data-state=summary]")).to_be_visible()
    body = message_body(page)
    expect(body).to_be_editable()
    expect(body).to_have_value(re.compile(rf"^Salut {FRIEND_NAME}\b"))
    subject = page.get_by_label("Objet", exact=True)
    expect(subject).to_have_value(re.compile(FRIEND_NAME))
    subject.fill(SUBJECT)
    body.fill(body.input_value().rstrip() + "\n\n" + POSTSCRIPT)
    expect(body).to_have_value(re.compile(re.escape(POSTSCRIPT) + "$"))


def sign_and_address(page: Page, sender: dict[str, str], friend_email: str) -> None:
    page.get_by_label("Votre prénom", exact=True).fill(sender["first"])
    page.get_by_label("Votre nom", exact=True).fill(sender["last"])
    page.get_by_label("Votre adresse e-mail", exact=True).fill(sender["email"])
    page.get_by_label("L’adresse e-mail de votre ami", exact=True).fill(friend_email)


def review_and_send(page: Page) -> None:
    """The message page's Next, then the review page: to whom it goes, before its button sends it."""
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Vérifiez avant d’envoyer")
    friend_email = page.get_by_label("L’adresse e-mail de votre ami", exact=True)
    expect(friend_email).to_have_count(0)  # nothing to type here: the answers are listed
    press(page, "Envoyer le message")


def send(page: Page) -> None:
    review_and_send(page)
    expect(page.locator("h1[data-state=sent]")).to_have_text("Votre message est parti\u00a0!")


def invite(page: Page, sender: dict[str, str], friend_email: str = FRIEND_EMAIL) -> None:
    """The whole flow with valid answers and the composed message unchanged."""
    describe_the_friend(page)
    tick_two_interests_and_reasons(page)
    sign_and_address(page, sender, friend_email)
    send(page)


def expect_the_one_invitation(settings: Settings, sender: dict[str, str]) -> Mail:
    """Exactly one mail: to the friend, the supporter in copy and as reply-to, in the supporter's name."""
    mails = stored_mails(settings)
    assert len(mails) == 1, [(m.to, m.subject) for m in mails]
    mail = mails[0]
    assert mail.to == [FRIEND_EMAIL]
    assert mail.cc == [sender["email"]]
    assert mail.reply_to == sender["email"]
    assert f"{sender['first']} {sender['last']}" in mail.sender
    assert sender["email"] not in mail.sender, mail.sender
    assert "List-Unsubscribe" in mail.headers, mail.headers
    assert mail.headers["List-Unsubscribe"].endswith(link_in(mail.text_body, "optout") + ">")
    link_in(mail.text_body, "join")
    return mail


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    press(page, "Se connecter")
    expect(page.get_by_role("link", name="Mon compte")).to_be_visible()


# --- the tests ----------------------------------------------------------------------------------

@pytest.mark.browser
def test_inviting_a_friend_sends_exactly_one_email_with_javascript(page: Page, settings: Settings) -> None:
    describe_the_friend(page)
    tick_two_interests_and_reasons(page)
    edit_the_message(page)
    sign_and_address(page, SUPPORTER, FRIEND_EMAIL)
    send(page)

    mail = expect_the_one_invitation(settings, SUPPORTER)
    assert mail.subject == SUBJECT
    assert mail.text_body.startswith(f"Salut {FRIEND_NAME}")
    assert POSTSCRIPT in mail.text_body


@pytest.mark.browser
def test_inviting_a_friend_sends_exactly_one_email_without_javascript(
        page_without_js: Page, settings: Settings) -> None:
    page = page_without_js
    scripted: list[str] = []
    page.on("request", lambda request: scripted.append(request.url) if request.resource_type == "fetch" else None)
    describe_the_friend(page)
    interests = field(page, "friend_interests")

    page.get_by_label("Écologie", exact=True).check()
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Ses centres d’intérêt")
    expect(interests.locator(".error")).to_have_text(EXACTLY_TWO_INTERESTS)
    expect(interests.locator("fieldset")).to_have_attribute("aria-invalid", "true")
    expect(interests.get_by_role("checkbox", checked=True)).to_have_count(1)
    expect(page.get_by_label("Écologie", exact=True)).to_be_checked()

    page.get_by_label("Éducation", exact=True).check()
    page.get_by_label("Santé", exact=True).check()
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Ses centres d’intérêt")
    expect(interests.locator(".error")).to_have_text(EXACTLY_TWO_INTERESTS)
    expect(interests.get_by_role("checkbox", checked=True)).to_have_count(3)
    for label in ("Écologie", "Éducation", "Santé"):
        expect(page.get_by_label(label, exact=True)).to_be_checked()
    page.get_by_label("Santé", exact=True).uncheck()
    press(page, "Suivant")

    expect(heading(page)).to_have_text("Vos raisons")
    page.get_by_label("Je veux agir près de chez moi").check()
    page.get_by_label("Je préfère agir plutôt que râler").check()
    press(page, "Suivant")
    expect(heading(page)).to_have_text("Votre message")
    edit_the_message(page)
    sign_and_address(page, SUPPORTER, FRIEND_EMAIL)
    send(page)

    mail = expect_the_one_invitation(settings, SUPPORTER)
    assert mail.subject == SUBJECT
    assert POSTSCRIPT in mail.text_body
    assert "\r" not in mail.text_body  # the browser posts CRLF; the mail keeps plain newlines
    assert scripted == [], "the script ran although JavaScript is off"


@pytest.mark.browser
def test_a_friend_who_joins_through_the_link_is_credited_to_the_inviter(
        page: Page, other_page: Page, live_server: str, settings: Settings) -> None:
    create_member(settings, SUPPORTER["first"], SUPPORTER["last"], SUPPORTER["email"])
    log_in(page, SUPPORTER["email"])

    describe_the_friend(page)
    tick_two_interests_and_reasons(page)
    expect(page.get_by_label("Votre prénom", exact=True)).to_have_value(SUPPORTER["first"])
    expect(page.get_by_label("Votre nom", exact=True)).to_have_value(SUPPORTER["last"])
    expect(page.get_by_label("Votre adresse e-mail", exact=True)).to_have_value(SUPPORTER["email"])
    page.get_by_label("L’adresse e-mail de votre ami", exact=True).fill(FRIEND_EMAIL)
    send(page)
    invitation = expect_the_one_invitation(settings, SUPPORTER)

    friend = other_page
    friend.goto(link_in(invitation.text_body, "join"))
    expect(friend).to_have_url(re.compile(r"/w/signup/\w+$"))
    sign_up(friend, scripted=True)  # Camille Martin, FRIEND_EMAIL

    mails = stored_mails(settings, at_least=2)
    assert len(mails) == 2, [(m.to, m.subject) for m in mails]
    activation = mails[1]
    assert activation.to == [FRIEND_EMAIL]
    found = re.search(r"https?://\S+/account/activate/[A-Za-z0-9_\-]+", activation.text_body)
    assert found, activation.text_body
    friend.goto(urlsplit(found.group(0)).path)
    expect(heading(friend)).to_have_text(f"Bienvenue, {FRIEND_NAME}\u00a0!")

    page.goto("/account")
    figures = page.get_by_test_id("invitation-figures")
    expect(figures.locator("strong")).to_have_text(["1", "1"])
    expect(figures).to_have_text(re.compile(r"^\s*1\s+invité\s+1\s+inscrit\s*$"))


@pytest.mark.browser
def test_the_friend_can_opt_out(page: Page, other_page: Page, settings: Settings) -> None:
    invite(page, SUPPORTER)
    invitation = expect_the_one_invitation(settings, SUPPORTER)

    friend = other_page
    friend.goto(link_in(invitation.text_body, "optout"))
    expect(heading(friend)).to_have_text("Ne plus recevoir d’invitation")
    press(friend, "Ne plus jamais m’envoyer d’invitation")
    expect(heading(friend)).to_have_text("Vous ne recevrez plus d’invitation")

    another = {"first": "Alix", "last": "Bernard", "email": "alix.bernard@example.org"}
    page.context.clear_cookies()  # somebody else, on another visit
    describe_the_friend(page)
    tick_two_interests_and_reasons(page)
    sign_and_address(page, another, FRIEND_EMAIL)
    review_and_send(page)

    expect(heading(page)).to_have_text("Votre message")  # refused: back on the step that asked the address
    friend_email = field(page, "friend_email")
    expect(friend_email.locator(".error")).to_have_text(OPTED_OUT)
    expect(friend_email.get_by_label("L’adresse e-mail de votre ami")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("h1[data-state=sent]")).to_have_count(0)
    assert len(stored_mails(settings)) == 1, "a mail was stored for an address that opted out"
