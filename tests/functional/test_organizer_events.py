"""Organizers create, edit and cancel events, see and export their participants, and write to them."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engagement.db import transaction, utcnow
from engagement.events import registration
from engagement.events.models import Event, EventRegistration
from engagement.mail.models import MailMessage
from engagement.slugs import slugify
from tests.functional.helpers import count, field_error, input_value, mails, selected_option, text
from tests.functional.invitation_steps import log_in, make_user

YEAR = utcnow().year + 1  # a December to come: Paris is at UTC+1 then
BEGINS, ENDS = f"{YEAR}-12-05T10:00", f"{YEAR}-12-05T12:30"
ADDRESS = {"address-country": "FR", "address-street": "3 rue du Port", "address-postal_code": "75011",
           "address-city": "75111", "address-city_name": ""}
EVENT = {"name": "Réunion publique", "description": "Ordre du jour : les transports.", "category": "meeting",
         "begins": BEGINS, "ends": ENDS, "timezone": "Europe/Paris", "online_url": "", "capacity": "",
         "committee": "", **ADDRESS}
ONLINE = {**EVENT, "name": "Visio", "category": "online", "online_url": "https://visio.example.org/salle",
          "address-street": "", "address-postal_code": "", "address-city": ""}
ORGANIZER = "orga@example.org"


@pytest.fixture
def organizer(app, client):
    make_user(app, ORGANIZER, role="organizer", first_name="Olivia", last_name="Orga")
    log_in(client, ORGANIZER)
    return client


def english(client) -> None:
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def create(client, **changes: str):
    client.get("/organizer/events/new")
    return client.post("/organizer/events/new", {**EVENT, **changes})


def created(client, read, **changes: str) -> Event:
    response = create(client, **changes)
    assert response.status_code == 303, text(client.last_html)[:2000]
    assert response.headers["Location"] == "/organizer/events"
    return read().scalars(select(Event).order_by(Event.id.desc())).first()


def people(app, event_id: int, *names: str, start: datetime | None = None) -> None:
    """Place people in this order (one second apart), each joining the waitlist when the event is full."""
    start = start or utcnow() - timedelta(minutes=5)
    for i, first_name in enumerate(names):
        person = registration.Person(email=f"{slugify(first_name)}@example.net", first_name=first_name,
                                     last_name="Martin", postal_code="94320")
        with transaction(app.extensions["engagement"].sessions) as session:
            registration.place(session, event_id, person, waitlist=True, now=start + timedelta(seconds=i),
                               locale="fr")


def recipients(read, template: str | None) -> list[str]:
    return [m.to[0] for m in mails(read()) if m.template == template]


# --- who may ---------------------------------------------------------------------------------------

URLS = ("/organizer/events", "/organizer/events/new", "/organizer/events/{slug}/edit",
        "/organizer/events/{slug}/participants", "/organizer/events/{slug}/participants.csv",
        "/organizer/events/{slug}/cancel", "/organizer/events/{slug}/email")


def test_anonymous_visitors_are_sent_to_log_in_and_members_are_refused(app, organizer, new_client, read):
    slug = created(organizer, read).slug
    visitor = new_client()
    for url in URLS:
        response = visitor.get(url.format(slug=slug))
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
    make_user(app, "membre@example.org")
    member = new_client()
    log_in(member, "membre@example.org")
    for url in URLS:
        assert member.get(url.format(slug=slug)).status_code == 403, url
    member.get("/")
    assert member.post(f"/organizer/events/{slug}/cancel", {}).status_code == 403
    assert read().get(Event, read().scalar(select(Event.id))).status == "scheduled"


def test_the_organizer_area_leads_to_the_events(organizer):
    organizer.get("/organizer/")
    assert 'href="/organizer/events"' in organizer.last_html


# --- creating and editing --------------------------------------------------------------------------

def test_a_physical_event_stores_utc_times_converted_from_its_time_zone(organizer, read):
    event = created(organizer, read, capacity="40")
    assert event.begins_at == datetime(YEAR, 12, 5, 9, 0, tzinfo=UTC)
    assert event.ends_at == datetime(YEAR, 12, 5, 11, 30, tzinfo=UTC)
    assert (event.timezone, event.capacity, event.category, event.status) == ("Europe/Paris", 40, "meeting",
                                                                              "scheduled")
    assert event.address["city_name"] == "Paris 11e Arrondissement" and event.postal_code == "75011"
    assert event.department == "75" and event.online_url is None
    organizer.get("/organizer/events")
    row = re.search(rf'<tr data-slug="{event.slug}">.*?</tr>', organizer.last_html, re.S).group(0)
    assert "10:00" in row and "0 / 40" in row  # shown in the event's own zone


def test_an_online_event_needs_no_address_and_an_overseas_zone_converts_too(organizer, read):
    event = created(organizer, read, **{k: v for k, v in ONLINE.items() if k != "timezone"},
                    timezone="Pacific/Noumea")
    assert event.begins_at == datetime(YEAR, 12, 4, 23, 0, tzinfo=UTC)  # Nouméa is UTC+11
    assert (event.address, event.postal_code, event.department) == (None, None, None)
    assert event.online_url == "https://visio.example.org/salle" and event.capacity is None
    cayenne = created(organizer, read, timezone="America/Cayenne", name="Guyane")
    assert cayenne.begins_at == datetime(YEAR, 12, 5, 13, 0, tzinfo=UTC)


def test_an_empty_form_shows_a_message_next_to_name_begins_ends_and_place(organizer, read):
    organizer.get("/organizer/events/new")
    response = organizer.post("/organizer/events/new", {"address-country": "FR", "timezone": "Europe/Paris"})
    page = organizer.last_html
    assert response.status_code == 422
    for field in ("name", "begins", "ends", "address"):
        assert field_error(page, field), field
    assert field_error(page, "capacity") is None and field_error(page, "online_url") is None
    assert count(read(), Event) == 0


@pytest.mark.parametrize(("changes", "field"), [
    ({"ends": f"{YEAR}-12-05T09:00"}, "ends"),
    ({"ends": BEGINS}, "ends"),
    ({"ends": f"{YEAR}-12-08T10:01"}, "ends"),
    ({"capacity": "0"}, "capacity"),
    ({"capacity": "beaucoup"}, "capacity"),
    ({"online_url": "javascript:alert(1)"}, "online_url"),
    ({"begins": "demain"}, "begins"),
    ({"timezone": "Asia/Tokyo"}, "timezone"),
    ({"address-postal_code": "99999", "address-city": ""}, "address"),
    ({"name": "x" * 121}, "name"),
])
def test_refused_events_show_the_message_next_to_the_input(organizer, read, changes, field):
    response = create(organizer, **changes)
    assert response.status_code == 422
    assert field_error(organizer.last_html, field), text(organizer.last_html)[-3000:]
    assert count(read(), Event) == 0


def test_the_core_rules_speak_english_too(organizer):
    english(organizer)
    create(organizer, ends=f"{YEAR}-12-05T09:00")
    assert field_error(organizer.last_html, "ends") == "The end must come after the beginning."
    create(organizer, ends=f"{YEAR}-12-09T10:00")
    assert field_error(organizer.last_html, "ends") == "An event lasts at most 3 days."
    create(organizer, capacity="0")
    assert field_error(organizer.last_html, "capacity") == (
        "Enter a number of seats of at least 1, or leave empty for no limit.")


def test_the_edit_form_shows_the_times_in_the_event_zone_and_saves_changes(organizer, read):
    event = created(organizer, read, timezone="Indian/Reunion")
    organizer.get(f"/organizer/events/{event.slug}/edit")
    page = organizer.last_html
    assert (input_value(page, "begins"), input_value(page, "ends")) == (BEGINS, ENDS)
    assert selected_option(page, "timezone") == "Indian/Reunion" and input_value(page, "name") == EVENT["name"]
    response = organizer.post(f"/organizer/events/{event.slug}/edit",
                              {**EVENT, "timezone": "Indian/Reunion", "name": "Réunion déplacée",
                               "begins": f"{YEAR}-12-06T18:00", "ends": f"{YEAR}-12-06T20:00"})
    assert response.status_code == 303
    saved = read().get(Event, event.id)
    assert saved.name == "Réunion déplacée" and saved.slug == event.slug
    assert saved.begins_at == datetime(YEAR, 12, 6, 14, 0, tzinfo=UTC)  # Réunion is UTC+4


def test_only_approved_committees_are_offered(app, organizer, read):
    from engagement.committees import service as committees

    user_id = make_user(app, "hote@example.org")
    with transaction(app.extensions["engagement"].sessions) as session:
        kept = committees.propose(session, name="Comité du 11e", description="", address=EVENT_ADDRESS,
                                  creator_id=user_id, now=utcnow())
        committees.propose(session, name="Comité en attente", description="", address=EVENT_ADDRESS,
                           creator_id=user_id, now=utcnow())
        committees.decide(session, kept, True, utcnow())
        kept_id = kept.id
    organizer.get("/organizer/events/new")
    assert "Comité du 11e" in organizer.last_html and "Comité en attente" not in organizer.last_html
    assert created(organizer, read, committee=str(kept_id)).committee_id == kept_id


EVENT_ADDRESS = {"country": "FR", "street": "3 rue du Port", "postal_code": "75011", "city": "75111",
                 "city_name": "Paris 11e Arrondissement"}


def test_more_seats_let_the_waitlist_in_in_order_with_a_mail_each(app, organizer, read):
    event = created(organizer, read, capacity="1")
    people(app, event.id, "Alix", "Basile", "Chloé", "Dana")
    assert [r.status for r in read().scalars(select(EventRegistration).order_by(EventRegistration.id))] == [
        "registered", "waitlisted", "waitlisted", "waitlisted"]
    english(organizer)
    organizer.get(f"/organizer/events/{event.slug}/edit")
    response = organizer.post(f"/organizer/events/{event.slug}/edit", {**EVENT, "capacity": "3"})
    assert response.status_code == 303
    session = read()
    rows = {r.first_name: r.status for r in session.scalars(select(EventRegistration))}
    assert rows == {"Alix": "registered", "Basile": "registered", "Chloé": "registered", "Dana": "waitlisted"}
    assert session.get(Event, event.id).seats_taken == 3
    assert recipients(read, "event_promoted") == ["basile@example.net", "chloe@example.net"]
    organizer.get("/organizer/events")
    assert "2 people moved from the waitlist to a seat" in text(organizer.last_html)


def test_a_cancelled_event_cannot_be_edited(organizer, read):
    event = created(organizer, read)
    organizer.get(f"/organizer/events/{event.slug}/cancel")
    organizer.post(f"/organizer/events/{event.slug}/cancel", {})
    response = organizer.get(f"/organizer/events/{event.slug}/edit")
    assert response.status_code == 303 and response.headers["Location"] == "/organizer/events"


# --- participants ----------------------------------------------------------------------------------

def test_the_participants_page_lists_the_registered_then_the_waitlist(app, organizer, read):
    event = created(organizer, read, capacity="2")
    people(app, event.id, "Alix", "Basile", "Chloé", "Dana")
    organizer.get(f"/organizer/events/{event.slug}/participants")
    page = text(organizer.last_html)
    registered = re.search(r'<table class="data" id="registered">(.*?)</table>', page, re.S).group(1)
    waitlisted = re.search(r'<table class="data" id="waitlisted">(.*?)</table>', page, re.S).group(1)
    assert re.findall(r"<td>(\w+) Martin</td>", registered) == ["Alix", "Basile"]
    assert re.findall(r"<tr><td>(\d+)</td><td>(\w+) Martin</td>", waitlisted) == [("1", "Chloé"), ("2", "Dana")]
    assert "chloe@example.net" in waitlisted and "94320" in waitlisted


def test_the_csv_export_is_excel_friendly_ordered_and_neutralises_formulas(app, organizer, read):
    event = created(organizer, read, capacity="1")
    people(app, event.id, "=SUM(A1)", "+Basile", "Chloé")
    english(organizer)
    response = organizer.get(f"/organizer/events/{event.slug}/participants.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{event.slug}-participants.csv"'
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["Status", "Waitlist position", "First name", "Last name", "Email", "Postal code",
                       "Registered on"]
    assert [row[:4] for row in rows[1:]] == [["Registered", "", "'=SUM(A1)", "Martin"],
                                             ["Waitlisted", "1", "'+Basile", "Martin"],
                                             ["Waitlisted", "2", "Chloé", "Martin"]]
    assert rows[1][4] == "sum-a1@example.net" and rows[1][5] == "94320"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", rows[1][6])
    assert b"\r\n" in response.data


# --- cancelling ------------------------------------------------------------------------------------

def test_cancelling_mails_everyone_once_and_a_second_cancel_mails_nobody(app, organizer, read):
    event = created(organizer, read, capacity="2")
    people(app, event.id, "Alix", "Basile", "Chloé")
    english(organizer)
    page = organizer.get(f"/organizer/events/{event.slug}/cancel")
    assert page.status_code == 200 and read().get(Event, event.id).status == "scheduled"
    assert "3 people (registered or on the waitlist) will receive" in text(organizer.last_html)
    response = organizer.post(f"/organizer/events/{event.slug}/cancel", {})
    assert response.status_code == 303
    assert read().get(Event, event.id).status == "cancelled"
    assert sorted(recipients(read, "event_cancelled")) == [
        "alix@example.net", "basile@example.net", "chloe@example.net"]
    organizer.get("/organizer/events")
    assert "Event cancelled: 3 people were told by mail." in text(organizer.last_html)
    again = organizer.post(f"/organizer/events/{event.slug}/cancel", {})
    assert again.status_code == 303
    assert len(recipients(read, "event_cancelled")) == 3


# --- writing to participants -----------------------------------------------------------------------

def test_writing_to_participants_sends_the_text_as_written_with_the_organizer_as_reply_to(app, organizer, read):
    event = created(organizer, read, capacity="2")
    people(app, event.id, "Alix", "Basile", "Chloé")
    before = count(read(), MailMessage)
    body = "Bonjour,\n\nApportez {{ 7*7 }} tracts et <b>vos</b> idées.\n"
    organizer.get(f"/organizer/events/{event.slug}/email")
    response = organizer.post(f"/organizer/events/{event.slug}/email",
                              {"subject": "Rendez-vous {{ lieu }}", "body": body.replace("\n", "\r\n")})
    assert response.status_code == 303
    sent = mails(read())[before:]
    assert sorted(m.to[0] for m in sent) == ["alix@example.net", "basile@example.net"]
    for message in sent:
        assert message.template is None and message.reply_to == ORGANIZER
        assert (message.subject, message.text_body) == ("Rendez-vous {{ lieu }}", body)
    organizer.get(f"/organizer/events/{event.slug}/email")
    organizer.post(f"/organizer/events/{event.slug}/email",
                   {"subject": "Aussi", "body": "Pour tous", "include_waitlist": "y"})
    assert sorted(m.to[0] for m in mails(read()) if m.subject == "Aussi") == [
        "alix@example.net", "basile@example.net", "chloe@example.net"]


def test_a_mail_to_participants_needs_a_subject_and_a_body(organizer, read):
    event = created(organizer, read)
    before = count(read(), MailMessage)
    organizer.get(f"/organizer/events/{event.slug}/email")
    response = organizer.post(f"/organizer/events/{event.slug}/email", {"subject": "", "body": " "})
    assert response.status_code == 422
    assert field_error(organizer.last_html, "subject") and field_error(organizer.last_html, "body")
    response = organizer.post(f"/organizer/events/{event.slug}/email", {"subject": "x" * 151, "body": "ok"})
    assert response.status_code == 422 and field_error(organizer.last_html, "subject")
    assert count(read(), MailMessage) == before


def test_an_organizer_sends_at_most_ten_messages_an_hour(app, organizer, read):
    event = created(organizer, read)
    people(app, event.id, "Alix")
    url = f"/organizer/events/{event.slug}/email"
    organizer.get(url)
    assert organizer.post(url, {"subject": "", "body": ""}).status_code == 422  # refused forms do not count
    for n in range(10):
        organizer.get(url)
        assert organizer.post(url, {"subject": f"Message {n}", "body": "Texte"}).status_code == 303
    organizer.get(url)
    assert organizer.post(url, {"subject": "Un de trop", "body": "Texte"}).status_code == 429
    assert not [m for m in mails(read()) if m.subject == "Un de trop"]


def test_a_finished_event_cannot_be_cancelled(organizer, read):
    event = created(organizer, read, begins=f"{YEAR - 3}-12-05T10:00", ends=f"{YEAR - 3}-12-05T12:00")
    organizer.get(f"/organizer/events/{event.slug}/cancel")
    assert 'type="submit" class="primary"' not in organizer.last_html
    response = organizer.post(f"/organizer/events/{event.slug}/cancel", {})
    assert response.status_code == 303 and read().get(Event, event.id).status == "scheduled"
    organizer.get("/organizer/events")
    assert re.search(rf'<table class="data" id="past">.*data-slug="{event.slug}"', organizer.last_html, re.S)


def test_saving_a_cancelled_event_lets_nobody_in_from_the_waitlist(app, organizer, read):
    """service.update promotes only while registration is open (no "you have a seat" after a cancellation)."""
    from engagement.events import service

    event = created(organizer, read, capacity="1")
    people(app, event.id, "Alix", "Basile")
    with transaction(app.extensions["engagement"].sessions) as session:
        row = session.get(Event, event.id)
        service.cancel(session, row, utcnow())
        data = service.EventInput(name=row.name, description="", begins_at=row.begins_at, ends_at=row.ends_at,
                                  address=row.address, capacity=5)
        service.update(session, row, data, utcnow(), "fr")
    assert recipients(read, "event_promoted") == []
    assert read().scalar(select(EventRegistration.status).where(EventRegistration.first_name == "Basile")) == (
        "waitlisted")


def test_a_time_the_clocks_skip_is_refused_next_to_it(organizer, read):
    english(organizer)
    # In Paris the clocks go from 02:00 to 03:00 on the last Sunday of March: 02:30 never happens.
    sunday = max(day for day in range(25, 32) if datetime(YEAR + 1, 3, day).weekday() == 6)
    response = create(organizer, begins=f"{YEAR + 1}-03-{sunday}T02:30", ends=f"{YEAR + 1}-03-{sunday}T04:00")
    assert response.status_code == 422
    assert "This time does not exist on that day in this time zone" in text(organizer.last_html)
    assert read().scalars(select(Event)).all() == []
