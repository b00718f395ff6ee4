"""Erasing an account gives its places up first: the seat goes to the waitlist, nothing leaks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement import signing
from engagement.accounts.models import User
from engagement.accounts.profile import delete_account
from engagement.events import service
from engagement.events.models import Event, EventRegistration
from engagement.events.registration import Person, place
from engagement.mail.models import MailMessage

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
PARIS = {"street": "1 rue de Rivoli", "postal_code": "75001", "city": "75101", "city_name": "Paris", "country": "FR"}


def test_erasing_a_member_frees_their_seat_for_the_first_waitlisted(session: Session, monkeypatch):
    monkeypatch.setitem(signing._secret, "key", "test")
    member = User(email="lou@example.org", first_name="Lou", last_name="Martin", created_at=NOW)
    session.add(member)
    session.flush()
    event = service.create(session, service.EventInput(
        "Atelier", "", NOW + timedelta(days=2), NOW + timedelta(days=2, hours=2), address=PARIS, capacity=1),
        None, NOW)
    assert place(session, event.id, Person(member.email, "Lou", "Martin", user_id=member.id),
                 waitlist=False, now=NOW, locale="fr") == "registered"
    assert place(session, event.id, Person("sam@example.org", "Sam", "Durand"), waitlist=True,
                 now=NOW, locale="fr") == "waitlisted"

    delete_account(session, member, NOW)
    session.flush()
    session.expire_all()

    rows = session.scalars(select(EventRegistration).order_by(EventRegistration.id)).all()
    assert [(r.email, r.status) for r in rows] == [("sam@example.org", "registered")]
    assert session.get(Event, event.id).seats_taken == 1
    promoted = session.scalars(select(MailMessage).where(MailMessage.template == "event_promoted")).all()
    assert [m.to for m in promoted] == [["sam@example.org"]]
