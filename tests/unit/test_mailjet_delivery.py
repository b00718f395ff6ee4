"""Sending through Mailjet (the real client against the loopback fake): batches of 50, per-message
outcomes, retries, and the ledger that never sends an accepted message twice."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engagement.config import Settings, load_settings
from engagement.core import bootstrap
from engagement.db import transaction, utcnow
from engagement.mail import mailjet
from engagement.mail import service as mail
from engagement.mail.delivery import RetryLater, deliver
from engagement.mail.mailjet import MailjetTransport, custom_id, payload
from engagement.mail.models import MailMessage
from engagement.outbox import OutboxMessage
from tests.fakes.mailjet import FakeMailjet


@pytest.fixture
def fake() -> Iterator[FakeMailjet]:
    with FakeMailjet() as server:
        server.timeout_seconds = 1.5
        yield server


@pytest.fixture
def transport(fake: FakeMailjet) -> MailjetTransport:
    return MailjetTransport(fake.api_key, fake.api_secret, fake.url, timeout=0.5)


def queue(factory: sessionmaker[Session], count: int, **extra: object) -> list[int]:
    """``count`` stored messages to person<n>@example.org, as compose writes them."""
    with transaction(factory) as session:
        rows = [mail.compose(session, to=[f"person{n}@example.org"], subject=f"Bonjour {n}", body="Un message.",
                             context={}, locale="fr", literal=True, **extra) for n in range(count)]
        return [row.id for row in rows]


def rows(factory: sessionmaker[Session], ids: list[int]) -> list[MailMessage]:
    with factory() as session:
        found = list(session.scalars(select(MailMessage).where(MailMessage.id.in_(ids)).order_by(MailMessage.id)))
        session.expunge_all()
        return found


def assert_each_once(fake: FakeMailjet, ids: list[int]) -> None:
    assert sorted(fake.custom_ids()) == sorted(custom_id(i) for i in ids)


def test_messages_go_in_calls_of_at_most_fifty_and_each_is_recorded_sent(factory, fake, transport):
    ids = queue(factory, 120)
    assert deliver(factory, transport, ids, "mailjet") == {"sent": 120, "refused": 0}
    assert fake.calls == 3
    assert_each_once(fake, ids)
    found = rows(factory, ids)
    assert {(r.status, r.backend, r.attempts) for r in found} == {("sent", "mailjet", 1)}
    assert all(r.provider_id and int(r.provider_id) >= 2**58 for r in found)  # 64-bit ids fit


def test_the_payload_carries_names_copies_reply_to_headers_and_attachments(factory, fake, transport):
    with transaction(factory) as session:
        row = mail.compose(session, to=["Camille@example.org"], cc=["dominique@example.org"],
                           reply_to="dominique@example.org", subject="Objet", body="Texte", context={},
                           locale="fr", literal=True, sender_name="Dominique Durand",
                           unsubscribe="https://example.org/optout/abc",
                           attachments=[{"filename": "e.ics", "content_type": "text/calendar", "content": "BEGIN"}])
        mail_id = row.id
    deliver(factory, transport, [mail_id], "mailjet")
    [sent] = fake.messages
    assert sent["From"] == {"Email": "ne-pas-repondre@engagement.local", "Name": "Dominique Durand (via Engagement)"}
    assert sent["To"] == [{"Email": "Camille@example.org"}] and sent["Cc"] == [{"Email": "dominique@example.org"}]
    assert sent["ReplyTo"] == {"Email": "dominique@example.org"}
    assert sent["Headers"]["List-Unsubscribe"] == "<https://example.org/optout/abc>"
    [attachment] = sent["Attachments"]
    assert base64.b64decode(attachment["Base64Content"]) == b"BEGIN" and attachment["Filename"] == "e.ics"


def test_a_call_carries_the_json_the_client_would_write_and_a_key_naming_it(factory, fake, transport, monkeypatch):
    ids = queue(factory, 3, sender_name="Zoé Martin")
    sent: list[dict[str, Any]] = []
    request = transport.send_client.session.request
    monkeypatch.setattr(transport.send_client.session, "request", lambda **kw: sent.append(kw) or request(**kw))
    deliver(factory, transport, ids, "mailjet")
    [call] = sent
    # What the client and requests would have written from the payloads: serialized once, byte for byte.
    assert call["data"] == json.dumps({"Messages": [payload(m) for m in rows(factory, ids)]}).encode("ascii")
    assert call["headers"]["Idempotency-Key"] == hashlib.sha256(call["data"]).hexdigest()
    assert call["headers"]["Content-Type"] == "application/json" and call["json"] is None


@pytest.mark.parametrize("value", [
    "camille@example.org", "Camille.Dupont+news@Example.ORG", "o'neil@example.fr", "a.b-c_d@sub.example.co.uk",
    "x{|}~`^?=/*&%$#!@example.org", "a..b@example.org", ".a@example.org", "a.@example.org", "a@example..org",
    "a@-example.org", "a@example.org.", "@example.org", "a@example", "a b@example.org", '"a b"@example.org',
    "Camille <camille@example.org>", "Camille Dupont (via Engagement) <ne-pas-repondre@engagement.local>",
    "zoé@example.org", "a@exämple.org", "a@[127.0.0.1]", "a(comment)@example.org", "a@example.org\n",
])
def test_an_address_reads_as_parseaddr_reads_it(value):
    name, email = parseaddr(value)
    assert mailjet._address(value) == ({"Email": email, "Name": name} if name else {"Email": email})


def test_a_partly_refused_call_sends_the_others_and_never_retries_the_refused(factory, fake, transport):
    ids = queue(factory, 5)
    fake.fail_next("partial")
    assert deliver(factory, transport, ids, "mailjet") == {"sent": 4, "refused": 1}
    first, *others = rows(factory, ids)
    assert first.status == "failed" and first.error
    assert {r.status for r in others} == {"sent"}
    calls = fake.calls
    assert deliver(factory, transport, ids, "mailjet") == {"sent": 0, "refused": 0}
    assert fake.calls == calls  # nothing owed: no call at all
    assert_each_once(fake, ids[1:])


def test_a_blocked_address_is_refused_once(factory, fake, transport):
    ids = queue(factory, 3)
    fake.refuse.add("person1@example.org")
    assert deliver(factory, transport, ids, "mailjet") == {"sent": 2, "refused": 1}
    assert [r.status for r in rows(factory, ids)] == ["sent", "failed", "sent"]


@pytest.mark.parametrize("fault", ["429", "503"])
def test_a_rate_limit_or_an_outage_sends_nothing_twice(factory, fake, transport, fault):
    ids = queue(factory, 60)
    fake.fail_next(fault)
    with pytest.raises(RetryLater) as owed:
        deliver(factory, transport, ids, "mailjet")
    assert set(owed.value.pending) <= set(ids) and owed.value.pending
    deliver(factory, transport, ids, "mailjet")
    assert_each_once(fake, ids)
    assert {r.status for r in rows(factory, ids)} == {"sent"}


def test_a_timeout_after_mailjet_accepted_is_reconciled_not_resent(factory, fake, transport):
    ids = queue(factory, 10)
    fake.fail_next("timeout_after")
    with pytest.raises(RetryLater):
        deliver(factory, transport, ids, "mailjet")
    assert_each_once(fake, ids)  # Mailjet holds them although the answer was lost
    assert deliver(factory, transport, ids, "mailjet") == {"sent": 10, "refused": 0}
    assert fake.calls == 1  # asked by CustomID, not sent again
    assert_each_once(fake, ids)
    assert {r.status for r in rows(factory, ids)} == {"sent"}


def test_a_timeout_before_mailjet_got_them_sends_them_once_later(factory, fake, transport):
    ids = queue(factory, 10)
    fake.fail_next("timeout_before")
    with pytest.raises(RetryLater):
        deliver(factory, transport, ids, "mailjet")
    assert fake.custom_ids() == []
    deliver(factory, transport, ids, "mailjet")
    assert_each_once(fake, ids)


def test_a_storm_of_faults_ends_with_every_message_exactly_once(factory, fake, transport):
    ids = queue(factory, 230)
    for kind in ("429", "timeout_after", "500", "partial", "timeout_before", "429"):
        fake.fail_next(kind)
    for _attempt in range(12):
        try:
            deliver(factory, transport, ids, "mailjet")
            break
        except RetryLater:
            continue
    found = rows(factory, ids)
    assert {r.status for r in found} <= {"sent", "failed"}
    sent = [r.id for r in found if r.status == "sent"]
    assert sorted(fake.custom_ids()) == sorted(custom_id(i) for i in sent)  # none twice, none lost
    assert len(sent) + sum(r.status == "failed" for r in found) == 230


def test_a_claim_held_by_a_live_worker_is_left_alone(factory, fake, transport):
    [mail_id] = queue(factory, 1)
    with transaction(factory) as session:
        row = session.get(MailMessage, mail_id)
        row.status, row.sending_at = "sending", utcnow()
    with pytest.raises(RetryLater):
        deliver(factory, transport, [mail_id], "mailjet")
    assert fake.calls == 0
    with transaction(factory) as session:  # that worker died: once its lease is over, the message goes
        session.get(MailMessage, mail_id).sending_at = utcnow() - timedelta(minutes=5)
    deliver(factory, transport, [mail_id], "mailjet")
    assert_each_once(fake, [mail_id])


def test_the_outbox_sends_through_mailjet_when_configured(settings: Settings, fake: FakeMailjet):
    env = {"ENGAGEMENT_ENV": "test", "DATABASE_URL": settings.database_url, "SECRET_KEY": "x",
           "ENGAGEMENT_INSTANCE_DIR": str(settings.instance_dir), "MAIL_BACKEND": "mailjet",
           "MAILJET_API_KEY": fake.api_key, "MAILJET_API_SECRET": fake.api_secret, "MAILJET_API_URL": fake.url}
    core = bootstrap(load_settings(env))
    try:
        with transaction(core.sessions) as session:
            mail_id = mail.compose(session, to=["lou@example.org"], subject="S", body="B", context={},
                                   locale="fr", literal=True).id
        assert_each_once(fake, [mail_id])  # relayed right after commit, in process
        with core.sessions() as session:
            assert session.get(MailMessage, mail_id).status == "sent"
            assert session.scalar(select(OutboxMessage.delivered_at)) is not None
    finally:
        mail.configure("outbox", "Engagement <ne-pas-repondre@engagement.local>")
        core.engine.dispose()


def test_a_suppressed_recipient_is_never_sent_to_mailjet(factory, fake, transport):
    from engagement.mail.suppression import suppress

    ids = queue(factory, 3)
    with transaction(factory) as session:
        suppress(session, "person1@example.org", "complained", "mailjet", utcnow())
    assert deliver(factory, transport, ids, "mailjet") == {"sent": 2, "refused": 0}
    assert [r.status for r in rows(factory, ids)] == ["sent", "suppressed", "sent"]
    assert_each_once(fake, [ids[0], ids[2]])
