"""Events and places at them (engagement.events): seats under the event's lock, the waitlist in order,
cancellation and promotion, the event's own cancellation, reminders, signed cancel links, the checks
an event must pass, the upcoming list and its filters. Service level, on the suite's real database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement import signing, slugs
from engagement.committees.models import Committee
from engagement.config import Settings
from engagement.db import make_engine, make_session_factory, transaction
from engagement.events import ics, service
from engagement.events.models import Event, EventRegistration
from engagement.events.registration import (
    CANCEL_SALT,
    Closed,
    Person,
    cancel,
    cancel_link,
    place,
    read_cancel,
    remind,
    remind_all,
)
from engagement.events.service import EventError, EventInput
from engagement.geo.communes import department_of
from engagement.mail.models import MailMessage

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
PARIS = {"street": "12 rue de la Paix", "postal_code": "75002", "city": "75102",
         "city_name": "Paris 2e Arrondissement", "country": "FR"}
AJACCIO = {"street": "1 cours Napoléon", "postal_code": "20000", "city": "2A004", "city_name": "Ajaccio",
           "country": "FR"}
BASSE_TERRE = {"street": "Rue de la République", "postal_code": "97100", "city": "97105",
               "city_name": "Basse-Terre", "country": "FR"}
LYON = {"street": "3 place Bellecour", "postal_code": "69002", "city": "69382",
        "city_name": "Lyon 2e Arrondissement", "country": "FR"}


@pytest.fixture(autouse=True)
def _signing_key(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(signing._secret, "key", settings.secret_key)


# --- Factories and readers -------------------------------------------------------------------------

def event_input(**changes: Any) -> EventInput:
    values: dict[str, Any] = {
        "name": "Réunion publique", "description": "Venez nombreux.", "begins_at": NOW + timedelta(days=7),
        "ends_at": NOW + timedelta(days=7, hours=2), "address": PARIS, "capacity": None, "category": "meeting",
    }
    return EventInput(**{**values, **changes})


def make_event(session: Session, **changes: Any) -> Event:
    return service.create(session, event_input(**changes), organizer_id=None, now=NOW)


def register(session: Session, event: Event, email: str, *, waitlist: bool = False, now: datetime = NOW,
             first_name: str = "Camille", last_name: str = "Martin", user_id: int | None = None) -> str:
    return place(session, event.id, Person(email, first_name, last_name, "75011", user_id), waitlist=waitlist,
                 now=now, locale="fr")


def registrations(session: Session, event: Event) -> list[EventRegistration]:
    session.expire_all()
    return list(session.scalars(select(EventRegistration).where(EventRegistration.event_id == event.id)
                                .order_by(EventRegistration.id)))


def by_email(session: Session, event: Event) -> dict[str, str]:
    """email -> status of the event's registrations."""
    return {row.email: row.status for row in registrations(session, event)}


def row_of(session: Session, event: Event, email: str) -> EventRegistration:
    return next(row for row in registrations(session, event) if row.email == email)


def seats(session: Session, event: Event) -> int:
    session.expire_all()
    return session.get(Event, event.id).seats_taken


def sent(session: Session, template: str | None = None) -> list[MailMessage]:
    query = select(MailMessage).order_by(MailMessage.id)
    if template is not None:
        query = query.where(MailMessage.template == template)
    return list(session.scalars(query))


def recipients(session: Session, template: str) -> list[str]:
    """The recipient of each mail of ``template``, in the order they were composed."""
    messages = sent(session, template)
    assert all(len(m.to) == 1 for m in messages)
    return [m.to[0] for m in messages]


def full_event(session: Session, capacity: int = 1, **changes: Any) -> Event:
    """An event whose ``capacity`` seats are taken by seat0@, seat1@ ..."""
    event = make_event(session, capacity=capacity, **changes)
    for n in range(capacity):
        assert register(session, event, f"seat{n}@example.org") == "registered"
    return event


def ics_attachment(message: MailMessage) -> dict[str, str]:
    assert message.attachments and len(message.attachments) == 1, message.attachments
    attachment = message.attachments[0]
    assert attachment["filename"].endswith(".ics")
    assert attachment["content_type"].startswith("text/calendar")
    assert "BEGIN:VCALENDAR" in attachment["content"] and "BEGIN:VEVENT" in attachment["content"]
    return attachment


# --- Taking a place --------------------------------------------------------------------------------

def test_place_registers_and_counts_the_seats(session):
    event = make_event(session, capacity=3)
    assert register(session, event, "lou@example.org") == "registered"
    assert register(session, event, "sam@example.org", first_name="Sam") == "registered"
    session.expire_all()
    event = session.get(Event, event.id)
    assert (event.seats_taken, event.seats_left, event.is_full) == (2, 1, False)
    assert by_email(session, event) == {"lou@example.org": "registered", "sam@example.org": "registered"}
    row = row_of(session, event, "sam@example.org")
    assert (row.first_name, row.last_name, row.postal_code, row.locale) == ("Sam", "Martin", "75011", "fr")
    assert row.waitlisted_at is None and row.cancelled_at is None and row.created_at == NOW
    confirmations = sent(session, "event_registered")
    assert [m.to for m in confirmations] == [["lou@example.org"], ["sam@example.org"]]
    ics_attachment(confirmations[0])
    assert re.search(r"/events/registrations/[^/\s]+/cancel", confirmations[0].text_body)


def test_unlimited_event_never_fills(session):
    event = make_event(session, capacity=None)
    for n in range(30):
        assert register(session, event, f"p{n}@example.org") == "registered"
    assert seats(session, event) == 30


def test_registering_twice_with_the_same_email_in_any_case_updates_the_one_row(session):
    event = make_event(session, capacity=2)
    assert register(session, event, "Lou@Example.org", first_name="Lou", last_name="Martin") == "registered"
    assert register(session, event, "  LOU@example.ORG ", first_name="Louise", last_name="Bernard",
                    now=NOW + timedelta(minutes=5)) == "registered"
    rows = registrations(session, event)
    assert len(rows) == 1
    assert (rows[0].email, rows[0].first_name, rows[0].last_name, rows[0].status) == (
        "lou@example.org", "Louise", "Bernard", "registered")
    assert rows[0].updated_at == NOW + timedelta(minutes=5) and rows[0].created_at == NOW
    assert seats(session, event) == 1  # the second time took no seat


def test_registering_again_keeps_a_waitlisted_place_and_a_registered_one_on_a_full_event(session):
    event = full_event(session, capacity=1)
    assert register(session, event, "wait@example.org", waitlist=True) == "waitlisted"
    # Already waitlisted: still waitlisted (not pushed to the back), names updated, no duplicate.
    assert register(session, event, "WAIT@example.org", waitlist=True, first_name="Wanda",
                    now=NOW + timedelta(hours=1)) == "waitlisted"
    # Already registered on a full event: still registered, not "full".
    assert register(session, event, "SEAT0@example.org", first_name="Zoé") == "registered"
    rows = registrations(session, event)
    assert [(r.email, r.status, r.first_name) for r in rows] == [
        ("seat0@example.org", "registered", "Zoé"), ("wait@example.org", "waitlisted", "Wanda")]
    assert rows[1].waitlisted_at == NOW
    assert seats(session, event) == 1


def test_full_event_without_waitlist_answers_full_and_records_nothing(session):
    event = full_event(session, capacity=2)
    mails_before = len(sent(session))
    assert register(session, event, "late@example.org") == "full"
    assert len(registrations(session, event)) == 2
    assert seats(session, event) == 2
    assert len(sent(session)) == mails_before


def test_full_event_with_waitlist_waitlists_in_order(session):
    event = full_event(session, capacity=1)
    for n, email in enumerate(["w1@example.org", "w2@example.org", "w3@example.org"]):
        assert register(session, event, email, waitlist=True, now=NOW + timedelta(minutes=n)) == "waitlisted"
    rows = [r for r in registrations(session, event) if r.status == "waitlisted"]
    assert [(r.email, r.waitlisted_at) for r in rows] == [
        ("w1@example.org", NOW), ("w2@example.org", NOW + timedelta(minutes=1)),
        ("w3@example.org", NOW + timedelta(minutes=2))]
    assert seats(session, event) == 1
    assert [r.email for r in service.participants(session, event)] == [
        "seat0@example.org", "w1@example.org", "w2@example.org", "w3@example.org"]
    waitlist_mails = sent(session, "event_waitlisted")
    assert [m.to for m in waitlist_mails] == [["w1@example.org"], ["w2@example.org"], ["w3@example.org"]]
    assert not waitlist_mails[0].attachments  # no calendar entry for a seat not held


def test_waitlist_joined_with_a_free_seat_registers(session):
    event = make_event(session, capacity=2)
    assert register(session, event, "lou@example.org", waitlist=True) == "registered"
    assert seats(session, event) == 1


def test_the_waitlist_is_ordered_by_when_people_joined_it_not_by_row_id(session):
    event = make_event(session, capacity=1)
    assert register(session, event, "early@example.org", now=NOW) == "registered"  # the lowest row id
    cancel(session, row_of(session, event, "early@example.org").id, NOW + timedelta(minutes=1))
    assert register(session, event, "seat@example.org", now=NOW + timedelta(minutes=2)) == "registered"
    assert register(session, event, "first@example.org", waitlist=True, now=NOW + timedelta(minutes=3)) == "waitlisted"
    # early@ comes back: the same row (lowest id), at the back of the waitlist.
    assert register(session, event, "early@example.org", waitlist=True, now=NOW + timedelta(minutes=4)) == "waitlisted"
    assert len(registrations(session, event)) == 3
    cancel(session, row_of(session, event, "seat@example.org").id, NOW + timedelta(minutes=5))
    assert by_email(session, event) == {"early@example.org": "waitlisted", "seat@example.org": "cancelled",
                                        "first@example.org": "registered"}
    assert recipients(session, "event_promoted") == ["first@example.org"]


def test_registering_again_after_cancelling_reuses_the_row_and_takes_a_seat(session):
    event = make_event(session, capacity=2)
    register(session, event, "lou@example.org")
    cancel(session, row_of(session, event, "lou@example.org").id, NOW + timedelta(minutes=1))
    assert seats(session, event) == 0
    assert register(session, event, "lou@example.org", now=NOW + timedelta(minutes=2)) == "registered"
    rows = registrations(session, event)
    assert len(rows) == 1 and rows[0].status == "registered" and rows[0].cancelled_at is None
    assert seats(session, event) == 1


# --- Closed events ---------------------------------------------------------------------------------

def test_closed_is_raised_for_a_cancelled_event(session):
    event = make_event(session, capacity=10)
    service.cancel(session, event, NOW)
    with pytest.raises(Closed):
        register(session, event, "lou@example.org")
    with pytest.raises(Closed):
        register(session, event, "lou@example.org", waitlist=True)
    assert registrations(session, event) == []


def test_closed_is_raised_for_an_event_that_ended(session):
    event = make_event(session, capacity=10)
    with pytest.raises(Closed):
        register(session, event, "lou@example.org", now=event.ends_at)
    with pytest.raises(Closed):
        register(session, event, "lou@example.org", now=event.ends_at + timedelta(days=1))
    assert registrations(session, event) == []
    # An event under way still takes people until it ends.
    assert register(session, event, "lou@example.org", now=event.begins_at + timedelta(minutes=30)) == "registered"


# --- Giving a place up -----------------------------------------------------------------------------

def test_cancelling_a_registered_place_frees_the_seat_for_the_first_waitlisted(session):
    event = full_event(session, capacity=2)
    register(session, event, "w1@example.org", waitlist=True, now=NOW + timedelta(minutes=1))
    register(session, event, "w2@example.org", waitlist=True, now=NOW + timedelta(minutes=2))
    later = NOW + timedelta(hours=1)
    row = cancel(session, row_of(session, event, "seat0@example.org").id, later)
    assert row is not None and row.status == "cancelled" and row.cancelled_at == later
    assert by_email(session, event) == {"seat0@example.org": "cancelled", "seat1@example.org": "registered",
                                        "w1@example.org": "registered", "w2@example.org": "waitlisted"}
    assert seats(session, event) == 2
    promoted = row_of(session, event, "w1@example.org")
    assert promoted.promoted_at == later
    mails = sent(session, "event_promoted")
    assert [m.to for m in mails] == [["w1@example.org"]]
    attachment = ics_attachment(mails[0])
    assert attachment["filename"] == f"{event.slug}.ics"
    assert re.search(r"/events/registrations/[^/\s]+/cancel", mails[0].text_body)


def test_cancelling_twice_is_idempotent(session):
    event = full_event(session, capacity=1)
    register(session, event, "w1@example.org", waitlist=True, now=NOW + timedelta(minutes=1))
    register(session, event, "w2@example.org", waitlist=True, now=NOW + timedelta(minutes=2))
    seat = row_of(session, event, "seat0@example.org").id
    cancel(session, seat, NOW + timedelta(hours=1))
    mails_after_first = len(sent(session))
    again = cancel(session, seat, NOW + timedelta(hours=2))
    assert again is not None and again.status == "cancelled" and again.cancelled_at == NOW + timedelta(hours=1)
    assert by_email(session, event) == {"seat0@example.org": "cancelled", "w1@example.org": "registered",
                                        "w2@example.org": "waitlisted"}
    assert seats(session, event) == 1
    assert len(sent(session)) == mails_after_first
    assert recipients(session, "event_promoted") == ["w1@example.org"]


def test_cancelling_a_waitlisted_place_promotes_nobody(session):
    event = full_event(session, capacity=1)
    register(session, event, "w1@example.org", waitlist=True, now=NOW + timedelta(minutes=1))
    register(session, event, "w2@example.org", waitlist=True, now=NOW + timedelta(minutes=2))
    cancel(session, row_of(session, event, "w1@example.org").id, NOW + timedelta(hours=1))
    assert by_email(session, event) == {"seat0@example.org": "registered", "w1@example.org": "cancelled",
                                        "w2@example.org": "waitlisted"}
    assert seats(session, event) == 1
    assert sent(session, "event_promoted") == []


def test_cancelling_an_unknown_registration_answers_none(session):
    assert cancel(session, 987654, NOW) is None


def test_cancelling_after_the_event_ended_promotes_nobody(session):
    event = full_event(session, capacity=1)
    register(session, event, "w1@example.org", waitlist=True)
    cancel(session, row_of(session, event, "seat0@example.org").id, event.ends_at + timedelta(hours=1))
    assert by_email(session, event)["w1@example.org"] == "waitlisted"
    assert sent(session, "event_promoted") == []


def test_a_larger_capacity_lets_the_waitlist_in_in_order(session):
    event = full_event(session, capacity=1)
    for n in range(1, 5):
        register(session, event, f"w{n}@example.org", waitlist=True, now=NOW + timedelta(minutes=n))
    later = NOW + timedelta(hours=1)
    service.update(session, event, event_input(capacity=3), later, "fr")
    assert by_email(session, event) == {
        "seat0@example.org": "registered", "w1@example.org": "registered", "w2@example.org": "registered",
        "w3@example.org": "waitlisted", "w4@example.org": "waitlisted"}
    assert seats(session, event) == 3
    assert recipients(session, "event_promoted") == ["w1@example.org", "w2@example.org"]
    assert row_of(session, event, "w2@example.org").promoted_at == later
    # Unlimited: everybody left comes in.
    service.update(session, event, event_input(capacity=None), later, "fr")
    assert set(by_email(session, event).values()) == {"registered"}
    assert recipients(session, "event_promoted") == ["w1@example.org", "w2@example.org", "w3@example.org",
                                                     "w4@example.org"]


def test_a_larger_capacity_on_a_cancelled_or_finished_event_lets_nobody_in(session):
    called_off = full_event(session, capacity=1)
    register(session, called_off, "w1@example.org", waitlist=True)
    service.cancel(session, called_off, NOW)
    service.update(session, called_off, event_input(capacity=5), NOW + timedelta(hours=1), "fr")
    assert by_email(session, called_off)["w1@example.org"] == "waitlisted"
    over = full_event(session, capacity=1, name="Finie")
    register(session, over, "w2@example.org", waitlist=True)
    service.update(session, over, event_input(name="Finie", capacity=5), over.ends_at + timedelta(hours=1), "fr")
    assert by_email(session, over)["w2@example.org"] == "waitlisted"
    assert sent(session, "event_promoted") == []


# --- Cancelling the event --------------------------------------------------------------------------

def test_cancelling_an_event_mails_every_participant_once(session):
    event = full_event(session, capacity=2)
    register(session, event, "w1@example.org", waitlist=True)
    register(session, event, "gone@example.org", waitlist=True)
    cancel(session, row_of(session, event, "gone@example.org").id, NOW)
    other = make_event(session, name="Autre réunion", capacity=5)
    register(session, other, "elsewhere@example.org")

    assert service.cancel(session, event, NOW + timedelta(hours=1)) == 3
    session.expire_all()
    cancelled = session.get(Event, event.id)
    assert (cancelled.status, cancelled.cancelled_at) == ("cancelled", NOW + timedelta(hours=1))
    assert sorted(recipients(session, "event_cancelled")) == [
        "seat0@example.org", "seat1@example.org", "w1@example.org"]
    attachment = ics_attachment(sent(session, "event_cancelled")[0])
    assert "STATUS:CANCELLED" in attachment["content"]

    assert service.cancel(session, event, NOW + timedelta(hours=2)) == 0
    assert len(sent(session, "event_cancelled")) == 3
    assert session.get(Event, event.id).cancelled_at == NOW + timedelta(hours=1)
    assert session.get(Event, other.id).status == "scheduled"


# --- Reminders -------------------------------------------------------------------------------------

def test_reminders_go_once_to_the_registered_people_of_events_starting_within_24_hours(session):
    early = NOW - timedelta(days=1)  # when everybody registered
    soon = make_event(session, name="Bientôt", capacity=2, begins_at=NOW + timedelta(hours=3),
                      ends_at=NOW + timedelta(hours=5))
    register(session, soon, "r1@example.org", now=early)
    register(session, soon, "r2@example.org", now=early)
    register(session, soon, "waiting@example.org", waitlist=True, now=early)
    edge = make_event(session, name="Dans presque un jour", begins_at=NOW + timedelta(hours=23, minutes=59),
                      ends_at=NOW + timedelta(hours=26))
    register(session, edge, "r3@example.org", now=early)
    register(session, edge, "changed-mind@example.org", now=early)
    cancel(session, row_of(session, edge, "changed-mind@example.org").id, early)
    far = make_event(session, name="Plus tard", begins_at=NOW + timedelta(hours=24, minutes=1),
                     ends_at=NOW + timedelta(hours=26))
    register(session, far, "far@example.org", now=early)
    started = make_event(session, name="Déjà commencé", begins_at=NOW - timedelta(minutes=30),
                         ends_at=NOW + timedelta(hours=2))
    register(session, started, "started@example.org", now=early)
    called_off = make_event(session, name="Annulé", begins_at=NOW + timedelta(hours=2),
                            ends_at=NOW + timedelta(hours=4))
    register(session, called_off, "called-off@example.org", now=early)
    service.cancel(session, called_off, early)

    assert remind(session, NOW) == 3
    assert sorted(recipients(session, "event_reminder")) == ["r1@example.org", "r2@example.org", "r3@example.org"]
    reminder = next(m for m in sent(session, "event_reminder") if m.to == ["r3@example.org"])
    ics_attachment(reminder)
    assert "Dans presque un jour" in reminder.subject + reminder.text_body
    assert row_of(session, soon, "r1@example.org").reminded_at == NOW

    assert remind(session, NOW) == 0
    assert remind(session, NOW + timedelta(seconds=30)) == 0  # the far event is still over 24 h away
    assert len(sent(session, "event_reminder")) == 3
    # Once the far event comes within 24 hours, its people get theirs, once.
    assert remind(session, NOW + timedelta(minutes=2)) == 1
    assert sorted(recipients(session, "event_reminder")) == [
        "far@example.org", "r1@example.org", "r2@example.org", "r3@example.org"]


def test_reminders_skip_a_waitlisted_person_until_promoted(session):
    event = full_event(session, capacity=1, begins_at=NOW + timedelta(hours=3), ends_at=NOW + timedelta(hours=4))
    register(session, event, "waiting@example.org", waitlist=True)
    assert remind(session, NOW) == 1
    assert recipients(session, "event_reminder") == ["seat0@example.org"]
    cancel(session, row_of(session, event, "seat0@example.org").id, NOW + timedelta(minutes=1))
    assert remind(session, NOW + timedelta(minutes=2)) == 1
    assert recipients(session, "event_reminder") == ["seat0@example.org", "waiting@example.org"]


def test_remind_all_goes_through_every_batch_and_commits_each(settings):
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    try:
        with transaction(factory) as session:
            event = make_event(session, begins_at=NOW + timedelta(hours=2), ends_at=NOW + timedelta(hours=3))
            for n in range(5):
                register(session, event, f"p{n}@example.org", now=NOW - timedelta(days=1))
        assert remind_all(factory, NOW, batch=2) == 5
        assert remind_all(factory, NOW, batch=2) == 0
        with factory() as session:
            assert sorted(recipients(session, "event_reminder")) == [f"p{n}@example.org" for n in range(5)]
    finally:
        engine.dispose()


# --- Signed cancel links ---------------------------------------------------------------------------

def test_cancel_link_round_trips_and_refuses_tampering(session):
    event = make_event(session, capacity=5)
    register(session, event, "lou@example.org")
    row = row_of(session, event, "lou@example.org")
    link = cancel_link(row)
    found = re.fullmatch(r"https?://[^/]+/events/registrations/([^/]+)/cancel", link)
    assert found, link
    token = found.group(1)
    assert read_cancel(token) == row.id
    # The first character carries the id's bits (a last base64 character may only hold padding bits).
    tampered = ("N" if token[0] != "N" else "M") + token[1:]
    assert read_cancel(tampered) is None
    assert read_cancel("") is None
    assert read_cancel("not-a-token") is None
    assert read_cancel(signing.dumps("another-salt", row.id)) is None  # signed for another purpose
    assert read_cancel(signing.dumps(CANCEL_SALT, str(row.id))) is None  # not an id
    assert read_cancel(signing.dumps(CANCEL_SALT, True)) is None


def test_cancel_link_is_in_the_confirmation_and_cancels_that_registration(session):
    event = make_event(session, capacity=5)
    register(session, event, "lou@example.org")
    body = sent(session, "event_registered")[0].text_body
    token = re.search(r"/events/registrations/([^/\s]+)/cancel", body).group(1)
    assert cancel(session, read_cancel(token), NOW).email == "lou@example.org"
    assert by_email(session, event) == {"lou@example.org": "cancelled"}


# --- What an event may be --------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"name": "   "}, "name", "name"),
    ({"name": "x" * 121}, "name", "name"),
    ({"ends_at": NOW + timedelta(days=7)}, "ends_at", "ends_before"),  # ends when it begins
    ({"ends_at": NOW + timedelta(days=6)}, "ends_at", "ends_before"),
    ({"ends_at": NOW + timedelta(days=10, minutes=1)}, "ends_at", "too_long"),
    ({"address": None}, "address", "place"),
    ({"address": {}, "online_url": ""}, "address", "place"),
    ({"address": None, "online_url": "javascript:alert(1)"}, "online_url", "online_url"),
    ({"capacity": 0}, "capacity", "capacity"),
    ({"capacity": -3}, "capacity", "capacity"),
    ({"category": "party"}, "category", "category"),
    ({"timezone": "Mars/Olympus"}, "timezone", "timezone"),
    ({"timezone": ""}, "timezone", "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone", "timezone"),
    ({"committee_id": 987654}, "committee_id", "committee"),
    ({"begins_at": (NOW + timedelta(days=7)).replace(tzinfo=None)}, "ends_at", "ends_before"),
    ({"ends_at": (NOW + timedelta(days=7, hours=2)).replace(tzinfo=None)}, "ends_at", "ends_before"),
])
def test_check_refuses_what_an_event_may_not_be(session, changes, field, code):
    with pytest.raises(EventError) as refused:
        service.check(session, event_input(**changes))
    assert (refused.value.field, refused.value.code) == (field, code)
    with pytest.raises(EventError):
        service.create(session, event_input(**changes), organizer_id=None, now=NOW)
    assert list(session.scalars(select(Event))) == []


@pytest.mark.parametrize("changes", [
    {"ends_at": NOW + timedelta(days=10)},  # exactly three days
    {"address": None, "online_url": "https://visio.example.org/salle-1", "category": "online"},
    {"capacity": 1},
    {"timezone": "America/Guadeloupe", "address": BASSE_TERRE},
])
def test_check_accepts_what_an_event_may_be(session, changes):
    service.check(session, event_input(**changes))


def test_create_derives_the_slug_postal_code_and_department(session):
    first = make_event(session, name="Réunion à Ajaccio !", address=AJACCIO)
    second = make_event(session, name="Réunion à Ajaccio !", address=AJACCIO)
    assert (first.slug, second.slug) == ("reunion-a-ajaccio", "reunion-a-ajaccio-2")
    assert (first.postal_code, first.department) == ("20000", "2A")
    online = make_event(session, address=None, online_url="https://visio.example.org/x", category="online")
    assert (online.postal_code, online.department, online.address) == (None, None, None)


# --- The upcoming list -----------------------------------------------------------------------------

def committee(session: Session) -> Committee:
    row = Committee(slug="comite-lyon-2", name="Comité Lyon 2", address=LYON, postal_code="69002",
                    department="69", status="approved")
    session.add(row)
    session.flush()
    return row


def test_upcoming_filters_by_postal_code_department_and_committee(session):
    group = committee(session)
    paris = make_event(session, name="Paris", address=PARIS, begins_at=NOW + timedelta(days=2),
                       ends_at=NOW + timedelta(days=2, hours=2))
    ajaccio = make_event(session, name="Ajaccio", address=AJACCIO)
    basse_terre = make_event(session, name="Basse-Terre", address=BASSE_TERRE, timezone="America/Guadeloupe")
    lyon = make_event(session, name="Lyon", address=LYON, committee_id=group.id)
    online = make_event(session, name="En ligne", address=None, online_url="https://visio.example.org/a",
                        category="online", begins_at=NOW + timedelta(days=1), ends_at=NOW + timedelta(days=1, hours=1))

    def names(**filters: Any) -> list[str]:
        return [e.name for e in service.upcoming(session, NOW, **filters)]

    assert names() == ["En ligne", "Paris", "Ajaccio", "Basse-Terre", "Lyon"]  # by start, then id
    assert names(postal_code="75002") == ["Paris"]
    assert names(postal_code="20000") == ["Ajaccio"]
    assert names(department="75") == ["Paris"]
    assert names(department="2A") == ["Ajaccio"]
    assert names(department="2a") == ["Ajaccio"]
    assert names(department="971") == ["Basse-Terre"]
    assert names(department="97") == []
    assert names(committee_id=group.id) == ["Lyon"]
    assert names(department="69", committee_id=group.id) == ["Lyon"]
    assert names(department="75", committee_id=group.id) == []
    assert (ajaccio.department, basse_terre.department, lyon.department, online.department, paris.department) == (
        "2A", "971", "69", None, "75")


def test_upcoming_leaves_out_cancelled_and_finished_events(session):
    make_event(session, name="À venir")
    under_way = make_event(session, name="En cours", begins_at=NOW - timedelta(hours=1),
                           ends_at=NOW + timedelta(hours=1))
    make_event(session, name="Fini", begins_at=NOW - timedelta(hours=3), ends_at=NOW - timedelta(hours=1))
    make_event(session, name="Fini à l'instant", begins_at=NOW - timedelta(hours=1), ends_at=NOW)
    called_off = make_event(session, name="Annulé")
    service.cancel(session, called_off, NOW)
    assert [e.name for e in service.upcoming(session, NOW)] == ["En cours", "À venir"]
    assert [e.name for e in service.upcoming(session, NOW, postal_code="75002")] == ["En cours", "À venir"]
    assert [e.name for e in service.upcoming(session, under_way.ends_at)] == ["À venir"]


def test_upcoming_pages_through_the_list(session):
    for n in range(5):
        make_event(session, name=f"Réunion {n}", begins_at=NOW + timedelta(days=1, hours=n),
                   ends_at=NOW + timedelta(days=1, hours=n + 1))
    assert [e.name for e in service.upcoming(session, NOW, limit=2)] == ["Réunion 0", "Réunion 1"]
    assert [e.name for e in service.upcoming(session, NOW, limit=2, offset=4)] == ["Réunion 4"]


# --- Departments -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("address", "department"), [
    (PARIS, "75"),
    (AJACCIO, "2A"),  # Corsica: from the commune, never from the postal code
    ({"postal_code": "20200", "city": "2b033", "country": "FR"}, "2B"),
    (BASSE_TERRE, "971"),
    ({"postal_code": "97400", "city": "97411"}, "974"),  # La Réunion; country defaults to FR
    ({"postal_code": "97200"}, "972"),  # no commune: the postal code's three digits overseas
    ({"postal_code": "13001"}, "13"),
    ({"postal_code": "01400", "city": ""}, "01"),
    ({"postal_code": "20000"}, "2A"),  # without the commune: the department all of its code's communes share
    ({"postal_code": "05110"}, None),  # communes of two departments share it: unknown without the commune
    ({"postal_code": "7500"}, None),
    ({"postal_code": "75OO2"}, None),
    ({"postal_code": "1000", "city_name": "Bruxelles", "country": "BE"}, None),
    ({"postal_code": "75002", "city": "75102", "country": "BE"}, None),
    ({}, None),
    (None, None),
])
def test_department_of(address, department):
    assert department_of(address) == department


def test_an_edit_moving_the_event_recomputes_its_department(session):
    event = make_event(session, address=PARIS)
    service.update(session, event, event_input(address=AJACCIO), NOW, "fr")
    session.expire_all()
    moved = session.get(Event, event.id)
    assert (moved.postal_code, moved.department) == ("20000", "2A")
    assert [e.name for e in service.upcoming(session, NOW, department="2A")] == ["Réunion publique"]
    assert service.upcoming(session, NOW, department="75") == []



# --- review fixes ---------------------------------------------------------------------------------

def test_registering_again_sends_no_second_confirmation(session):
    event = make_event(session, capacity=5)
    register(session, event, "lou@example.org")
    register(session, event, "LOU@example.org", first_name="Louise")
    assert recipients(session, "event_registered") == ["lou@example.org"]


def test_each_edit_and_the_cancellation_raise_the_calendar_sequence(session):
    event = make_event(session)
    assert event.sequence == 0
    service.update(session, event, event_input(name="Réunion publique (nouvel horaire)"), NOW, "fr")
    service.cancel(session, event, NOW)
    session.expire_all()
    assert session.get(Event, event.id).sequence == 2
    assert b"SEQUENCE:2" in ics.calendar(session.get(Event, event.id), NOW)


def test_a_finished_event_is_not_cancelled_and_nobody_is_mailed(session):
    event = make_event(session, begins_at=NOW - timedelta(hours=3), ends_at=NOW - timedelta(hours=1))
    assert service.cancel(session, event, NOW) == 0
    session.expire_all()
    assert session.get(Event, event.id).status == "scheduled"
    assert sent(session, "event_cancelled") == []


def test_an_event_may_only_belong_to_an_approved_committee(session):
    committee = Committee(slug="en-attente", name="En attente", address=PARIS, postal_code="75002",
                          status="pending", created_at=NOW)
    session.add(committee)
    session.flush()
    with pytest.raises(EventError) as refused:
        make_event(session, committee_id=committee.id)
    assert (refused.value.field, refused.value.code) == ("committee_id", "committee")
    committee.status = "approved"
    assert make_event(session, committee_id=committee.id).committee_id == committee.id


def test_a_slug_taken_meanwhile_by_a_concurrent_insert_is_retried(session, monkeypatch):
    first = make_event(session)
    # The other insert committed after our lookup: the lookup still answers the taken slug once.
    answers = iter([first.slug])
    real = slugs.unique_slug
    monkeypatch.setattr(slugs, "unique_slug", lambda s, model, text: next(answers, None) or real(s, model, text))
    second = make_event(session)
    assert second.slug != first.slug and second.slug.startswith(first.slug)
    assert session.scalar(select(Event.id).where(Event.id == second.id)) == second.id
