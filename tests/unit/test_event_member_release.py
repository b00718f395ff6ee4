"""Erasing an account gives its places up first: the seat goes to the waitlist, nothing leaks; places at events
that are over stay, without the person, for the attendance figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement import signing
from engagement.accounts.models import User
from engagement.events import service
from engagement.events.models import Event, EventRegistration
from engagement.events.registration import Person, place
from engagement.mail.models import MailMessage
from engagement.privacy.erasure import erase_user

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
PARIS = {"street": "1 rue de Rivoli", "postal_code": "75001", "city": "75101", "city_name": "Paris", "country": "FR"}


@pytest.fixture
def seated(session: Session, monkeypatch: pytest.MonkeyPatch) -> tuple[User, Event]:
    """A member with the only seat of an event in two days."""
    monkeypatch.setitem(signing._secret, "key", "test")
    member = User(email="lou@example.org", first_name="Lou", last_name="Martin", created_at=NOW)
    session.add(member)
    session.flush()
    event = service.create(session, service.EventInput(
        "Atelier", "", NOW + timedelta(days=2), NOW + timedelta(days=2, hours=2), address=PARIS, capacity=1),
        None, NOW)
    assert place(session, event.id, Person(member.email, "Lou", "Martin", "75001", user_id=member.id),
                 waitlist=False, now=NOW, locale="fr") == "registered"
    return member, event


def test_erasing_a_member_frees_their_seat_for_the_first_waitlisted(session: Session, seated):
    member, event = seated
    assert place(session, event.id, Person("sam@example.org", "Sam", "Durand"), waitlist=True,
                 now=NOW, locale="fr") == "waitlisted"

    erased = erase_user(session, member, NOW)
    session.flush()
    session.expire_all()

    assert (erased.places_released, erased.registrations) == (1, 1)
    rows = session.scalars(select(EventRegistration).order_by(EventRegistration.id)).all()
    assert [(r.email, r.first_name, r.last_name, r.user_id, r.status) for r in rows] == [
        (f"{rows[0].id}@erased.invalid", "", "", None, "cancelled"), ("sam@example.org", "Sam", "Durand", None,
                                                                      "registered")]
    assert session.get(Event, event.id).seats_taken == 1
    promoted = session.scalars(select(MailMessage).where(MailMessage.template == "event_promoted")).all()
    assert [m.to for m in promoted] == [["sam@example.org"]]


def test_a_place_at_an_event_over_stays_counted_without_the_person(session: Session, seated):
    member, event = seated
    later = NOW + timedelta(days=3)  # the event is over

    erased = erase_user(session, member, later)
    session.flush()
    session.expire_all()

    assert (erased.places_released, erased.registrations) == (0, 1)
    [row] = session.scalars(select(EventRegistration)).all()
    assert (row.email, row.first_name, row.last_name, row.postal_code, row.user_id, row.status) == (
        f"{row.id}@erased.invalid", "", "", "", None, "registered")
    assert session.get(Event, event.id).seats_taken == 1
    assert service.participants(session, session.get(Event, event.id)) == []  # nobody to write to
