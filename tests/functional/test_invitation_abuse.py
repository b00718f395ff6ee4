"""The invitation form sends text of the user's choosing to any address: opt-outs, repeats, limits."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from engagement.invitations.models import Invitation, InvitationOptOut
from tests.functional.helpers import count, field_error, input_value, instances, mails, state_of, text
from tests.functional.invitation_steps import (
    SELF,
    invite,
    mail_link,
    send,
    start_again,
    textarea,
    to_summary,
)

OPTED_OUT = "Cette personne a demandé à ne plus recevoir nos invitations."
REPEATED = "Vous avez déjà invité cette personne ces 7 derniers jours."
SELF_INVITED = "C’est votre propre adresse\u00a0: indiquez celle de votre ami."
RECIPIENT_LIMIT = "Cette personne a déjà reçu plusieurs invitations aujourd’hui. Réessayez demain."
WAIT = "Vous avez fait cela trop de fois. Réessayez dans"
OTHER_SENDER = {"self_first_name": "Alex", "self_last_name": "Petit", "self_email": "alex@example.org"}


def optout_link(read) -> str:
    return mail_link(mails(read())[-1].text_body, "optout")


def refused_at_summary(client, read, field: str, message: str, **changes) -> None:
    """Send the summary: refused next to ``field``, nothing recorded and nothing mailed."""
    invitations, sent = count(read(), Invitation), len(mails(read()))
    to_summary(client)
    response = send(client, **changes)
    assert response.status_code == 422, text(client.last_html)[:1500]
    assert state_of(client.last_html) == "summary"
    assert field_error(client.last_html, field) == message
    assert count(read(), Invitation) == invitations and len(mails(read())) == sent


def retry_after(response) -> int:
    value = response.headers.get("Retry-After", "")
    assert value.isdigit() and int(value) > 0, value
    return int(value)


# --- Opting out ------------------------------------------------------------------------------------

def test_the_optout_link_asks_for_a_confirmation_and_records_nothing(client, new_client, read):
    invite(client)
    friend = new_client()
    response = friend.get(optout_link(read))
    assert response.status_code == 200
    page = friend.last_html
    assert "Ne plus recevoir d’invitation" in text(page)
    assert '<form method="post"' in page and "<button" in page and 'name="csrf_token"' in page
    assert count(read(), InvitationOptOut) == 0


def test_confirming_the_optout_refuses_later_invitations_to_that_address_by_anyone(client, new_client, read):
    invite(client)
    link = optout_link(read)
    friend = new_client()
    friend.get(link)
    response = friend.post(link)
    assert response.status_code == 200 and "Vous ne recevrez plus d’invitation" in text(friend.last_html)
    [opt_out] = read().scalars(select(InvitationOptOut)).all()
    assert opt_out.email_hash == hashlib.sha256(b"camille@example.net").hexdigest()  # only a fingerprint
    refused_at_summary(new_client(), read, "friend_email", OPTED_OUT, friend_email="CAMILLE@Example.NET",
                       **OTHER_SENDER)
    start_again(client)
    refused_at_summary(client, read, "friend_email", OPTED_OUT, friend_email="camille@example.net")
    assert len(mails(read())) == 1


def test_an_opted_out_address_gets_no_copy_as_the_sender_either(client, new_client, read):
    invite(client)
    link = optout_link(read)
    friend = new_client()
    friend.get(link)
    friend.post(link)
    someone = new_client()
    to_summary(someone)
    response = send(someone, self_email="Camille@example.net", friend_email="lou@example.net")
    assert response.status_code == 422, text(someone.last_html)[:1500]
    assert field_error(someone.last_html, "self_email") == OPTED_OUT
    assert field_error(someone.last_html, "friend_email") is None
    assert count(read(), Invitation) == 1 and len(mails(read())) == 1


def test_mail_clients_opt_out_in_one_click_without_a_csrf_token(client, new_client, read):
    invite(client)
    link = optout_link(read)
    [message] = mails(read())
    assert message.headers["List-Unsubscribe"] == f"<http://127.0.0.1:5000{link}>"
    mail_client = new_client().client  # the raw test client: no page fetched, no token
    response = mail_client.post(link, data="List-Unsubscribe=One-Click",
                                content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert count(read(), InvitationOptOut) == 1
    again = mail_client.post(link, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert again.status_code == 200 and count(read(), InvitationOptOut) == 1  # idempotent


def test_a_tampered_optout_link_is_a_friendly_404(client, new_client, read):
    invite(client)
    link = optout_link(read)
    tampered = link[:-4] + ("abcd" if not link.endswith("abcd") else "wxyz")
    visitor = new_client()
    response = visitor.get(tampered)
    assert response.status_code == 404 and "Ce lien n’est pas valide" in text(visitor.last_html)
    posted = visitor.client.post(tampered, data="List-Unsubscribe=One-Click",
                                 content_type="application/x-www-form-urlencoded")
    assert posted.status_code == 404 and "Traceback" not in posted.get_data(as_text=True)
    assert count(read(), InvitationOptOut) == 0


# --- Repeats, oneself, one address's daily limit ---------------------------------------------------

def test_the_same_sender_may_not_invite_the_same_friend_twice_in_a_week(client, new_client, read):
    invite(client)
    start_again(client)
    refused_at_summary(client, read, "friend_email", REPEATED, friend_email="Camille@example.net")
    elsewhere = new_client()  # the sender is their address, whatever the browser
    refused_at_summary(elsewhere, read, "friend_email", REPEATED, self_email="DOMINIQUE@example.org")
    other = new_client()
    invite(other, **OTHER_SENDER)
    assert count(read(), Invitation) == 2 and len(mails(read())) == 2


def test_inviting_oneself_is_refused(client, read):
    refused_at_summary(client, read, "friend_email", SELF_INVITED, friend_email="Dominique@Example.org")
    assert count(read(), Invitation) == 0 and mails(read()) == []


def test_one_address_receives_at_most_three_invitations_a_day(client, new_client, read):
    for number in range(3):
        invite(new_client(), self_email=f"sender{number}@example.org")
    refused_at_summary(client, read, "friend_email", RECIPIENT_LIMIT, self_email="sender3@example.org")
    assert count(read(), Invitation) == 3


def test_a_refused_send_keeps_the_edited_message_on_the_page(client, read):
    to_summary(client)
    edited = "Salut Camille,\n\nC'est moi qui l'ai écrit, ce message."
    response = send(client, message_subject="Mon propre objet", message_body=edited,
                    friend_email="dominique@example.org")
    assert response.status_code == 422
    page = client.last_html
    assert field_error(page, "friend_email") == SELF_INVITED
    assert input_value(page, "message_subject") == "Mon propre objet"
    assert textarea(page, "message_body") == edited
    assert (input_value(page, "self_first_name"), input_value(page, "self_last_name"),
            input_value(page, "self_email"), input_value(page, "friend_email")) == (
        "Dominique", "Durand", "dominique@example.org", "dominique@example.org")
    assert count(read(), Invitation) == 0


# --- Rate limits -----------------------------------------------------------------------------------

def test_one_client_sends_at_most_ten_invitations_an_hour(client, new_client, read):
    for number in range(10):
        if number:
            start_again(client)
        invite(client, friend_email=f"friend{number}@example.net", self_email=f"sender{number}@example.org")
    start_again(client)
    to_summary(client)
    edited = "Salut Camille,\n\nUn message que je ne veux pas perdre."
    response = send(client, friend_email="friend10@example.net", self_email="sender10@example.org",
                    message_body=edited)
    assert response.status_code == 429
    assert retry_after(response) <= 3600
    page = client.last_html
    assert WAIT in text(page) and state_of(page) == "check"  # refused from the review page: its notice
    assert edited in text(page)  # the message as edited, kept in the answers and listed for review
    session = read()
    assert count(session, Invitation) == 10 and len(mails(session)) == 10
    assert instances(session, "invitation")[-1].state == "check"
    assert instances(session, "invitation")[-1].data["message_body"] == edited
    invite(new_client(), friend_email="friend10@example.net", self_email="sender10@example.org")
    assert count(read(), Invitation) == 11 and len(mails(read())) == 11


def test_one_sender_sends_at_most_ten_invitations_an_hour_whatever_the_client(new_client, read):
    for number in range(10):
        invite(new_client(), friend_email=f"friend{number}@example.net")
    last = new_client()
    to_summary(last)
    response = send(last, friend_email="friend10@example.net", self_email=SELF["self_email"].upper())
    assert response.status_code == 429
    assert retry_after(response) == 3600
    assert f"{WAIT} 60 minutes." in text(last.last_html) and state_of(last.last_html) == "check"
    assert count(read(), Invitation) == 10 and len(mails(read())) == 10
    invite(new_client(), friend_email="friend10@example.net", **OTHER_SENDER)
    assert count(read(), Invitation) == 11
