"""A person's name in the From header of a mail sent on their behalf is cleaned: no address, no quote, no
control or bidi character, at most 40 characters, and always followed by the platform's "(via ...)" in front
of the platform's own address (engagement.mail.headers). Checked on the stored message and on what Mailjet
receives (the real client against the loopback fake)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from email.utils import parseaddr

import pytest

from engagement.db import transaction
from engagement.mail import service as mail
from engagement.mail.delivery import deliver
from engagement.mail.mailjet import MailjetTransport
from engagement.outbox import InProcessRelay
from tests.fakes.mailjet import FakeMailjet
from tests.functional.helpers import mails
from tests.functional.invitation_steps import invite

PLATFORM = "ne-pas-repondre@engagement.local"  # engagement.config's default MAIL_SENDER
SPOOF = "Paypal Security <security@paypal.com>"


@pytest.fixture
def fake() -> Iterator[FakeMailjet]:
    with FakeMailjet() as server:
        yield server


@pytest.fixture
def env(env: dict[str, str], fake: FakeMailjet) -> dict[str, str]:
    """The app sends through Mailjet (the fake)."""
    return {**env, "MAIL_BACKEND": "mailjet", "MAILJET_API_KEY": fake.api_key,
            "MAILJET_API_SECRET": fake.api_secret, "MAILJET_API_URL": fake.url}


def through_mailjet(factory, fake: FakeMailjet, mail_id: int) -> dict:
    """The message as Mailjet receives it."""
    deliver(factory, MailjetTransport(fake.api_key, fake.api_secret, fake.url, timeout=30), [mail_id], "mailjet")
    [sent] = fake.messages
    return sent


def hidden_or_address_like(display: str) -> list[str]:
    return [c for c in display if c in '<>@"' or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]


def test_an_inviter_named_like_an_address_is_shown_as_a_name_via_the_platform(client, read, fake):
    invite(client, self_first_name=SPOOF, self_last_name="Durand")
    InProcessRelay.drain()
    [message] = mails(read())
    display, address = parseaddr(message.sender)
    assert address == PLATFORM
    assert display == "Paypal Security Durand (via Engagement)"
    [sent] = fake.messages
    assert sent["From"] == {"Email": PLATFORM, "Name": "Paypal Security Durand (via Engagement)"}
    assert "paypal.com" not in str(sent["From"]) and sent["ReplyTo"] == {"Email": "dominique@example.org"}


@pytest.mark.parametrize("name", [
    "Paypal\u202e ytiruceS\u202c <security@paypal.com>",  # an override, as a legacy account's name may hold
    "\u2067Paypal\u2069 Security\x00\r\nBcc: someone@example.org",
    '"Paypal Security" <security@paypal.com> ' + "x" * 80,
])
def test_a_name_with_bidi_control_or_quote_characters_leaves_clean(factory, fake, name):
    with transaction(factory) as session:
        message = mail.compose(session, to=["camille@example.net"], subject="Un mot\u202e pour toi\r\nBcc: x",
                               body="Bonjour", context={}, locale="fr", literal=True, sender_name=name)
        assert message is not None
        mail_id, stored = message.id, message.sender
    display, address = parseaddr(stored)
    assert address == PLATFORM and display.endswith(" (via Engagement)") and display.startswith("Paypal")
    assert hidden_or_address_like(display) == [] and len(display.removesuffix(" (via Engagement)")) <= 40
    sent = through_mailjet(factory, fake, mail_id)
    assert sent["From"] == {"Email": PLATFORM, "Name": display}
    assert sent["Subject"] == "Un mot pour toi Bcc: x"


ENCODED_SPOOF = "=?utf-8?q?=3Csecurity=40paypal.fr=3E?="  # a client decodes it to <security@paypal.fr>


def test_an_inviter_named_with_an_encoded_word_is_shown_without_it(client, read, fake):
    invite(client, self_first_name=f"{ENCODED_SPOOF} x", self_last_name="Durand",
           message_subject="=?utf-8?q?Votre_compte_=E2=80=AEest_bloqu=C3=A9?= Camille, rejoins-nous")
    InProcessRelay.drain()
    [message] = mails(read())
    assert parseaddr(message.sender) == ("x Durand (via Engagement)", PLATFORM)
    assert message.subject == "Camille, rejoins-nous"
    [sent] = fake.messages
    assert sent["From"] == {"Email": PLATFORM, "Name": "x Durand (via Engagement)"}
    assert sent["Subject"] == "Camille, rejoins-nous" and "=?" not in str(sent["From"])  # the body may quote it


@pytest.mark.parametrize(("name", "shown"), [
    ("support＠paypal.com Du﹫․com Camille", "Camille (via Engagement)"),  # look-alike @ and dot (NFKC)
    ("＜security＠paypal.com＞ Paypal.com Sécurité", "Sécurité (via Engagement)"),  # full-width <, a domain name
    (f"{ENCODED_SPOOF} =?UTF-8?B?PHNlY3VyaXR5QHBheXBhbC5mcj4=?=", "Engagement"),  # nothing left: the platform
])
def test_a_campaign_sender_name_keeps_no_look_alike_address_nor_encoded_word(factory, fake, name, shown):
    with transaction(factory) as session:
        message = mail.compose(session, to=["camille@example.net"], subject=f"{ENCODED_SPOOF} Nouvelles",
                               body="Bonjour", context={}, locale="fr", literal=True, sender_name=name)
        assert message is not None
        mail_id, stored, subject = message.id, message.sender, message.subject
    assert parseaddr(stored) == (shown, PLATFORM) and subject == "Nouvelles"
    sent = through_mailjet(factory, fake, mail_id)
    assert sent["From"] == {"Email": PLATFORM, "Name": shown} and sent["Subject"] == "Nouvelles"
