"""Convincing a friend through workflows/invitation.yml: steps, the composed message, the mail, attribution."""

from __future__ import annotations

import re
from email.utils import parseaddr

import yaml
from sqlalchemy import select

from engagement.accounts.models import User
from engagement.invitations.content import SEED
from engagement.invitations.models import Invitation
from tests.functional.helpers import (
    checked,
    count,
    field_error,
    in_wizard,
    input_value,
    instances,
    mails,
    state_of,
    text,
    transitions,
    untouched_start,
)
from tests.functional.invitation_steps import (
    FRIEND,
    INTERESTS,
    PROJECT,
    REASONS,
    URL,
    figures,
    go_back,
    invite,
    log_in,
    mail_link,
    make_user,
    send,
    start_again,
    step,
    textarea,
    to_summary,
)
from tests.functional.test_signup import AGREEMENT, HOME, IDENTITY, TOPICS
from tests.functional.test_signup import URL as SIGNUP
from tests.functional.test_signup import join as sign_up

INTERESTS_MESSAGE = "Choisissez 2 sujets"
REASONS_MESSAGE = "Choisissez 2 raisons"
# What each required field says when left empty: the workflow's own GOV.UK-style wording.
REQUIRED = {"friend_first_name": "Saisissez son prénom", "friend_age": "Saisissez son âge",
            "friend_gender": "Choisissez ce qui décrit votre ami", "friend_position": "Choisissez sa situation",
            "friend_project": "Choisissez son projet de vie", "message_subject": "Saisissez l’objet du message",
            "message_body": "Saisissez le message", "self_first_name": "Saisissez votre prénom",
            "self_last_name": "Saisissez votre nom", "self_email": "Saisissez votre adresse e-mail",
            "friend_email": "Saisissez l’adresse e-mail de votre ami"}
SEED_CONTENT = yaml.safe_load(SEED.read_text(encoding="utf-8"))
TEACHER_ARGUMENT = SEED_CONTENT["positions"]["teacher"]["argument"]["fr"]
FRIEND_JOINS = {**IDENTITY, "email": "camille.friend@example.net"}


def only(session, model=Invitation):
    rows = list(session.scalars(select(model)))
    assert len(rows) == 1, f"expected one {model.__name__}, found {len(rows)}"
    return rows[0]


def refused(client, data, status=422):
    """Submit the current step; it must be refused and stay where it was."""
    before = state_of(client.get(URL).get_data(as_text=True))
    response = client.post(URL, {**data, "trigger": "next"})
    assert response.status_code == status, text(client.last_html)[:1500]
    assert state_of(client.last_html) == before
    return client.last_html


# --- The form: one page per state, the fields of the YAML ------------------------------------------

def test_the_friendly_url_redirects_to_the_wizard(client):
    response = client.get("/invitation")
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)


def test_each_step_has_its_state_and_the_fields_of_the_yaml(client):
    def controls(page):
        form = re.search(r'<form method="post"[^>]*data-state="[^"]*".*?</form>', page, re.S).group(0)
        return set(re.findall(r'<(?:input|select|textarea)\b[^>]*\sname="([^"]+)"', form)) - {
            "csrf_token", "step", "trigger"}

    expected = [
        ("friend", {"friend_first_name", "friend_age", "friend_gender", "friend_position"}),
        ("project", {"friend_project"}),
        ("interests", {"friend_interests"}),
        ("reasons", {"self_reasons"}),
        ("summary", {"message_subject", "message_body", "self_first_name", "self_last_name", "self_email",
                     "friend_email"}),
    ]
    answers = [FRIEND, PROJECT, INTERESTS, REASONS, None]
    for (state, fields), data in zip(expected, answers, strict=True):
        page = client.get(URL).get_data(as_text=True)
        assert state_of(page) == state
        assert controls(page) == fields
        assert 'name="csrf_token"' in page
        if data is not None:
            assert '<button type="submit" name="trigger" value="next"' in page
            step(client, data)
    assert '<button type="submit" name="trigger" value="next"' in client.last_html  # then the review sends
    assert 'type="checkbox"' not in client.last_html.split('data-field="message_subject"')[1]


# --- Each step's validation ------------------------------------------------------------------------

def test_an_empty_friend_step_is_refused_field_by_field_and_records_nothing(client, read):
    page = refused(client, {})
    for name in ("friend_first_name", "friend_age", "friend_gender", "friend_position"):
        assert field_error(page, name) == REQUIRED[name], name
    untouched_start(read(), "invitation", "friend")


def test_the_friend_must_be_17_to_130(client, read):
    page = refused(client, {**FRIEND, "friend_age": "16"})
    assert field_error(page, "friend_age") == "Votre ami doit avoir au moins 17 ans."
    page = refused(client, {**FRIEND, "friend_age": "131"})
    assert field_error(page, "friend_age") == "Indiquez un âge jusqu’à 130 ans."
    untouched_start(read(), "invitation", "friend")


def test_a_first_name_over_50_characters_is_refused(client, read):
    page = refused(client, {**FRIEND, "friend_first_name": "C" * 51})
    assert field_error(page, "friend_first_name") == "Saisissez au plus 50 caractères."
    untouched_start(read(), "invitation", "friend")


def test_gender_and_job_type_must_be_keys_offered(client, read):
    page = refused(client, {**FRIEND, "friend_gender": "robot"})
    assert field_error(page, "friend_gender") == "Choisissez l’une des options proposées."
    page = refused(client, {**FRIEND, "friend_position": "astronaut"})
    assert field_error(page, "friend_position") == "Choisissez l’une des options proposées."
    untouched_start(read(), "invitation", "friend")


def test_the_project_is_required(client, read):
    step(client, FRIEND)
    page = refused(client, {})
    assert field_error(page, "friend_project") == REQUIRED["friend_project"]
    assert instances(read(), "invitation")[0].state == "project"


def test_exactly_two_interests_and_the_ticked_boxes_stay_ticked(client, read):
    step(client, FRIEND)
    step(client, PROJECT)
    for ticked in (["ecology"], ["ecology", "education", "health"]):
        page = refused(client, {"friend_interests": ticked})
        assert field_error(page, "friend_interests") == INTERESTS_MESSAGE
        assert checked(page, "friend_interests") == set(ticked)
    page = refused(client, {})
    assert field_error(page, "friend_interests") == INTERESTS_MESSAGE
    assert checked(page, "friend_interests") == set()
    [instance] = instances(read(), "invitation")
    assert instance.state == "interests" and "friend_interests" not in instance.data


def test_exactly_two_reasons(client, read):
    for data in (FRIEND, PROJECT, INTERESTS):
        step(client, data)
    for ticked in (["local_action"], ["local_action", "meet_people", "act_not_complain"], []):
        page = refused(client, {"self_reasons": ticked} if ticked else {})
        assert field_error(page, "self_reasons") == REASONS_MESSAGE
        assert checked(page, "self_reasons") == set(ticked)
    assert instances(read(), "invitation")[0].state == "reasons"


def test_an_empty_summary_is_refused_field_by_field_and_sends_nothing(client, read):
    to_summary(client)
    response = client.post(URL, {"message_subject": "", "message_body": "", "self_first_name": "",
                                 "self_last_name": "", "self_email": "", "friend_email": "", "trigger": "next"})
    assert response.status_code == 422 and state_of(client.last_html) == "summary"
    for name in ("message_subject", "message_body", "self_first_name", "self_last_name", "self_email",
                 "friend_email"):
        assert field_error(client.last_html, name) == REQUIRED[name], name
    session = read()
    assert count(session, Invitation) == 0 and mails(session) == []
    assert instances(session, "invitation")[0].state == "summary"


def test_an_invalid_friend_address_is_refused(client, read):
    to_summary(client)
    response = send(client, friend_email="camille@")
    assert response.status_code == 422
    assert field_error(client.last_html, "friend_email") == (
        "Saisissez une adresse e-mail valide, comme nom@exemple.fr.")
    assert count(read(), Invitation) == 0 and mails(read()) == []


# --- The composed message --------------------------------------------------------------------------

def test_the_summary_is_prefilled_with_a_message_composed_from_the_answers(client):
    page = to_summary(client)
    assert input_value(page, "message_subject") == "Camille, et si tu nous rejoignais\u00a0?"
    body = textarea(page, "message_body")
    assert body.startswith("Salut Camille,")
    assert TEACHER_ARGUMENT in body
    for section, key in (("reasons", "local_action"), ("interests", "ecology"), ("projects", "start_family")):
        assert SEED_CONTENT[section][key]["argument"]["fr"] in body
    assert SEED_CONTENT["positions"]["student"]["argument"]["fr"] not in body


def test_the_edited_subject_and_body_are_what_is_mailed(client, read):
    to_summary(client)
    response = send(client, message_subject="Un mot pour toi", message_body="Salut Camille,\n\nViens donc voir !")
    assert response.status_code == 303
    [message] = mails(read())
    assert message.subject == "Un mot pour toi"
    assert message.text_body.startswith("Salut Camille,\n\nViens donc voir !")
    assert "Les femmes sont encore" not in message.text_body
    assert only(read()).body == "Salut Camille,\n\nViens donc voir !"


def test_sending_mails_the_friend_once_with_the_supporter_in_copy(client, read, settings):
    to_summary(client)
    response = send(client)
    assert response.status_code == 303 and in_wizard(response.headers["Location"], URL)
    session = read()
    [message] = mails(session)
    assert message.to == ["camille@example.net"]
    assert message.cc == ["dominique@example.org"] and message.reply_to == "dominique@example.org"
    display, address = parseaddr(message.sender)
    assert display == "Dominique Durand (via Engagement)"
    assert address == parseaddr(settings.mail_sender)[1] != "dominique@example.org"
    assert re.fullmatch(r"<http://\S+/invitation/optout/\S+>", message.headers["List-Unsubscribe"])
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    join_link, optout_link = mail_link(message.text_body, "join"), mail_link(message.text_body, "optout")
    assert message.headers["List-Unsubscribe"] == f"<http://127.0.0.1:5000{optout_link}>"
    assert join_link in message.html_body and optout_link in message.html_body
    invitation = only(session)
    assert invitation.answers == {
        "friend_age": 34, "friend_gender": "female", "friend_position": "teacher", "friend_project": "start_family",
        "friend_interests": ["education", "ecology"], "self_reasons": ["local_action", "act_not_complain"]}
    assert isinstance(invitation.answers["friend_age"], int)
    assert (invitation.sender_first_name, invitation.sender_last_name, invitation.sender_email) == (
        "Dominique", "Durand", "dominique@example.org")
    assert (invitation.friend_first_name, invitation.friend_email) == ("Camille", "camille@example.net")
    assert invitation.inviter_id is None and invitation.joined_user_id is None
    assert invitation.subject == message.subject and invitation.locale == "fr"
    [instance] = instances(session, "invitation")
    assert instance.is_completed and instance.state == "sent" and invitation.instance_id == instance.id
    page = text(client.get(URL).get_data(as_text=True))
    assert "Votre message est parti\u00a0!" in page


def test_the_friend_address_is_mailed_and_kept_lower_cased(client, read):
    to_summary(client)
    assert send(client, friend_email="Camille@Example.NET").status_code == 303
    session = read()
    assert only(session).friend_email == "camille@example.net"
    [message] = mails(session)
    assert message.to == ["camille@example.net"]


def test_back_and_forth_without_changes_keeps_the_edited_message(client):
    to_summary(client)
    edited = "Salut Camille,\n\nJe t'écris avec mes propres mots, viens voir."
    # Back is a button of the summary's form (formaction): the edits travel with it.
    assert f'formaction="{URL}/back"' in client.last_html
    response = client.post(f"{URL}/back", {"step": client.hidden("step"), "message_subject": "Mon objet",
                                           "message_body": edited})
    assert response.status_code == 303
    assert state_of(client.get(URL).get_data(as_text=True)) == "reasons"
    step(client, REASONS)
    page = client.get(URL).get_data(as_text=True)
    assert state_of(page) == "summary"
    assert input_value(page, "message_subject") == "Mon objet"
    assert textarea(page, "message_body") == edited


def test_changing_an_answer_recomposes_the_message(client):
    composed = textarea(to_summary(client), "message_body")
    go_back(client)
    step(client, {"self_reasons": ["local_action", "meet_people"]})
    page = client.get(URL).get_data(as_text=True)
    body = textarea(page, "message_body")
    assert body != composed
    assert SEED_CONTENT["reasons"]["meet_people"]["argument"]["fr"] in body
    assert SEED_CONTENT["reasons"]["act_not_complain"]["argument"]["fr"] not in body


def test_start_again_on_the_closing_page_gives_a_fresh_empty_form(client, read):
    invite(client)
    start_again(client)
    page = client.get(URL).get_data(as_text=True)
    assert state_of(page) == "friend"
    assert input_value(page, "friend_first_name") == "" and input_value(page, "friend_age") == ""
    old, fresh = instances(read(), "invitation")
    assert old.is_completed and old.state == "sent"
    assert fresh.state == "friend" and fresh.data == {} and not fresh.is_completed
    assert transitions(read(), fresh.id) == []


def test_the_friend_first_name_is_escaped_in_the_page_and_the_mail(client, read):
    hostile = "<script>alert(1)</script>"
    page = to_summary(client, friend={**FRIEND, "friend_first_name": hostile})
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert textarea(page, "message_body").startswith(f"Salut {hostile},")
    assert send(client).status_code == 303
    [message] = mails(read())
    assert "<script>" not in message.html_body
    assert "Salut &lt;script&gt;alert(1)&lt;/script&gt;," in message.html_body
    assert message.text_body.startswith(f"Salut {hostile},")  # plain text: nothing to interpret


# --- A logged-in member ----------------------------------------------------------------------------

def test_a_member_finds_their_name_and_address_filled_in_and_is_the_inviter(client, app, read):
    user_id = make_user(app, "lou.bernard@example.org", first_name="Lou", last_name="Bernard")
    log_in(client, "Lou.Bernard@example.org")
    page = to_summary(client)
    assert input_value(page, "self_first_name") == "Lou"
    assert input_value(page, "self_last_name") == "Bernard"
    assert input_value(page, "self_email") == "lou.bernard@example.org"
    response = send(client, self_first_name="Lou", self_last_name="Bernard", self_email="lou.bernard@example.org")
    assert response.status_code == 303
    invitation = only(read())
    assert invitation.inviter_id == user_id and invitation.sender_email == "lou.bernard@example.org"
    assert figures(client.get("/account").get_data(as_text=True)) == [("1", "invité"), ("0", "inscrit")]


# --- Attribution: the friend joins through the link ------------------------------------------------

def test_joining_through_the_link_credits_the_inviter(client, new_client, app, read):
    make_user(app, "dominique@example.org")
    log_in(client, "dominique@example.org")
    invite(client)
    [message] = mails(read())
    friend = new_client()
    response = friend.get(mail_link(message.text_body, "join"))
    assert response.status_code == 303 and response.headers["Location"].endswith(SIGNUP)
    sign_up(friend, FRIEND_JOINS)
    session = read()
    joined = session.scalar(select(User).where(User.email == "camille.friend@example.net"))
    invitation = only(session)
    assert invitation.joined_user_id == joined.id and invitation.joined_at is not None
    assert figures(client.get("/account").get_data(as_text=True)) == [("1", "invité"), ("1", "inscrit")]


def test_an_unfinished_signup_keeps_its_answers_when_the_link_is_followed(client, new_client, read):
    invite(client)
    link = mail_link(mails(read())[0].text_body, "join")
    friend = new_client()
    friend.get(SIGNUP)
    assert friend.post(SIGNUP, {**FRIEND_JOINS, "trigger": "next"}).status_code == 303
    assert friend.get(link).status_code == 303
    page = friend.get(SIGNUP).get_data(as_text=True)
    assert state_of(page) == "home"
    [signup] = instances(read(), "signup")
    assert signup.data["first_name"] == "Camille" and signup.data["email"] == "camille.friend@example.net"
    for data, trigger in ((HOME, "next"), (TOPICS, "next"), (AGREEMENT, "next"), ({}, "join")):
        friend.get(SIGNUP)
        assert friend.post(SIGNUP, {**data, "trigger": trigger}).status_code == 303, text(friend.last_html)[:1500]
    session = read()
    joined = session.scalar(select(User).where(User.email == "camille.friend@example.net"))
    assert only(session).joined_user_id == joined.id


def test_a_tampered_join_link_is_a_friendly_404(client, new_client, read):
    invite(client)
    link = mail_link(mails(read())[0].text_body, "join")
    visitor = new_client()
    response = visitor.get(link[:-3] + ("xyz" if not link.endswith("xyz") else "abc"))
    assert response.status_code == 404
    page = text(visitor.last_html)
    assert "Ce lien n’est pas valide" in page and "Traceback" not in page
    assert visitor.get("/invitation/join/not-a-token").status_code == 404


def test_a_signup_without_the_link_credits_nobody(client, new_client, app, read):
    make_user(app, "dominique@example.org")
    log_in(client, "dominique@example.org")
    invite(client)
    sign_up(new_client(), FRIEND_JOINS)
    session = read()
    assert count(session, User, User.email == "camille.friend@example.net") == 1
    invitation = only(session)
    assert invitation.joined_user_id is None and invitation.joined_at is None
    assert figures(client.get("/account").get_data(as_text=True)) == [("1", "invité"), ("0", "inscrit")]


def test_deleting_the_inviters_account_keeps_their_invitations_without_them(client, app, read):
    make_user(app, "dominique@example.org")
    log_in(client, "dominique@example.org")
    invite(client)
    assert count(read(), Invitation) == 1
    client.get("/account")
    response = client.post("/account/delete", {"confirm": "y"})
    assert response.status_code == 303 and response.headers["Location"] == "/account/deleted"
    session = read()
    assert count(session, User) == 0
    invitation = only(session)  # still counted as sent; nothing says by whom, to whom, or what
    assert invitation.inviter_id is None and invitation.friend_hashed_at is not None
    assert (invitation.sender_email, invitation.sender_first_name, invitation.friend_email, invitation.body) == (
        "", "", "", "")
