"""The suppression list, honoured by every send, fed by Mailjet's events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.mail import events, suppression
from engagement.mail import service as mail
from engagement.mail.models import MailMessage, MailSuppression
from engagement.mail.suppression import blocked, screen, suppress

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def message(session: Session, to: list[str], cc: list[str] | None = None, stream: str = "transactional"):
    row = mail.compose(session, to=to, cc=cc or [], subject="S", body="B", context={}, locale="fr", literal=True)
    row.stream = stream
    return row


def test_an_unsubscribed_address_gets_transactional_mail_but_no_campaign(session: Session):
    suppress(session, "Lou@Example.org", "unsubscribed", "link", NOW)
    session.flush()
    assert blocked(session, ["lou@example.org"], "transactional") == set()
    assert blocked(session, ["lou@example.org", "sam@example.org"], "campaign") == {"lou@example.org"}


@pytest.mark.parametrize("reason", ["bounced", "complained"])
def test_a_bounce_or_a_complaint_blocks_every_mail(session: Session, reason: str):
    suppress(session, "lou@example.org", "unsubscribed", "link", NOW)
    suppress(session, "lou@example.org", reason, "mailjet", NOW)
    suppress(session, "lou@example.org", "unsubscribed", "link", NOW)  # does not weaken it
    session.flush()
    assert session.scalars(select(MailSuppression.reason)).all() == [reason]
    assert blocked(session, ["LOU@example.org"], "transactional") == {"LOU@example.org"}


def test_only_a_hash_of_the_address_is_kept(session: Session):
    suppress(session, "lou@example.org", "bounced", "mailjet", NOW)
    session.flush()
    [row] = session.scalars(select(MailSuppression)).all()
    assert row.email_hash == suppression.digest("lou@example.org") and "lou" not in row.email_hash


def test_a_blocked_copy_is_dropped_and_a_blocked_recipient_stops_the_message(session: Session):
    suppress(session, "cc@example.org", "bounced", "mailjet", NOW)
    suppress(session, "gone@example.org", "complained", "mailjet", NOW)
    kept = message(session, ["lou@example.org"], ["cc@example.org"])
    stopped = message(session, ["gone@example.org"])
    assert screen(session, kept) and kept.cc == []
    assert not screen(session, stopped) and stopped.status == "suppressed"


def test_the_outbox_backend_never_sends_to_a_suppressed_address(app):
    sessions = app.extensions["engagement"].sessions
    from engagement.db import transaction

    with transaction(sessions) as session:
        suppress(session, "gone@example.org", "bounced", "mailjet", NOW)
    with transaction(sessions) as session:
        message(session, ["gone@example.org"])
        message(session, ["lou@example.org"])
    with sessions() as session:
        statuses = {tuple(m.to): m.status for m in session.scalars(select(MailMessage))}
    assert statuses == {("gone@example.org",): "suppressed", ("lou@example.org",): "sent"}


def test_events_update_the_message_and_feed_the_list(session: Session):
    row = message(session, ["lou@example.org"])
    session.flush()
    custom = f"mail-{row.id}"
    assert events.record(session, {"event": "sent", "email": "lou@example.org", "CustomID": custom,
                                   "time": 1764579600}, NOW)
    assert events.record(session, {"event": "open", "email": "lou@example.org", "CustomID": custom,
                                   "time": 1764579700}, NOW)
    assert events.record(session, {"event": "sent", "email": "lou@example.org", "CustomID": custom,
                                   "time": 1764579650}, NOW)  # late, older: ignored for the status
    assert row.provider_event == "open"
    assert events.record(session, {"event": "bounce", "email": "soft@example.org", "hard_bounce": False}, NOW)
    assert events.record(session, {"event": "bounce", "email": "hard@example.org", "hard_bounce": True}, NOW)
    assert events.record(session, {"event": "spam", "email": "spam@example.org"}, NOW)
    assert events.record(session, {"event": "unsub", "email": "unsub@example.org"}, NOW)
    assert not events.record(session, {"event": "teleport", "email": "x@example.org"}, NOW)
    assert not events.record(session, {"event": "spam"}, NOW)
    session.flush()
    reasons = dict(session.execute(select(MailSuppression.email_hash, MailSuppression.reason)).all())
    assert reasons == {suppression.digest("hard@example.org"): "bounced",
                       suppression.digest("spam@example.org"): "complained",
                       suppression.digest("unsub@example.org"): "unsubscribed"}
