"""The .ics of an event (engagement.events.ics): valid RFC 5545 read by two independent parsers
(icalendar and vobject), times in UTC, text escaped, lines CRLF-terminated and folded at 75 octets; the mailed
copy an RFC 5546 PUBLISH (METHOD and ORGANIZER), the UID the same whatever host serves or sends it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar
from sqlalchemy.orm import Session

from engagement.committees.models import Committee
from engagement.events import ics, service
from engagement.events.models import Event
from engagement.events.service import EventInput
from engagement.mail import service as mail

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
PARIS_TIME = ZoneInfo("Europe/Paris")
BEGINS = datetime(2026, 12, 5, 10, tzinfo=PARIS_TIME)  # 09:00 UTC (winter time)
ENDS = datetime(2026, 12, 5, 12, 30, tzinfo=PARIS_TIME)
NAME = "Réunion « Été » à Évry, l'après-midi ; café & débat"
ADDRESS = {"street": "3 allée des Épinettes", "postal_code": "91000", "city": "91228",
           "city_name": "Évry-Courcouronnes", "country": "FR"}
TRICKY = "Ordre du jour : budget, écoles; transports.\nDeuxième ligne, avec une virgule\n\nEt \\ une barre"


def make_event(session: Session, **changes: Any) -> Event:
    values: dict[str, Any] = {"name": NAME, "description": "", "begins_at": BEGINS, "ends_at": ENDS,
                              "address": ADDRESS, "capacity": 40, "category": "debate"}
    event = service.create(session, EventInput(**{**values, **changes}), organizer_id=None, now=NOW)
    session.commit()
    session.expire_all()  # read back as stored: aware UTC
    return session.get(Event, event.id)


def page_of(event: Event) -> str:
    return mail.absolute(f"/events/{event.slug}")


def lines(raw: bytes) -> list[bytes]:
    """The physical lines, each of which must end with CRLF."""
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b""), "a line ends without CR"
    assert b"\r" not in raw.replace(b"\r\n", b""), "a lone CR"
    return raw[:-2].split(b"\r\n")


def unfolded(raw: bytes) -> list[str]:
    """The content lines, folding undone (RFC 5545 §3.1)."""
    return raw.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def only_vevent(raw: bytes) -> Any:
    calendar = Calendar.from_ical(raw)
    vevents = [c for c in calendar.walk() if c.name == "VEVENT"]
    assert len(vevents) == 1
    return calendar, vevents[0]


def test_the_calendar_parses_with_icalendar(session):
    event = make_event(session)
    calendar, vevent = only_vevent(ics.calendar(event, NOW))
    assert calendar.name == "VCALENDAR"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == ics.PRODID
    assert str(vevent["UID"]) == ics.uid(event)
    assert vevent.decoded("DTSTAMP") == NOW
    assert vevent.decoded("DTSTART") == event.begins_at == datetime(2026, 12, 5, 9, tzinfo=UTC)
    assert vevent.decoded("DTEND") == event.ends_at == datetime(2026, 12, 5, 11, 30, tzinfo=UTC)
    assert vevent.decoded("DTSTART").utcoffset() == timedelta(0)
    assert str(vevent["SUMMARY"]) == NAME
    assert str(vevent["LOCATION"]) == "3 allée des Épinettes, 91000 Évry-Courcouronnes"
    assert str(vevent["URL"]) == page_of(event)
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert "DESCRIPTION" not in vevent  # no description given


def test_the_calendar_parses_with_vobject(session):
    event = make_event(session, description=TRICKY)
    parsed = vobject.readOne(ics.calendar(event, NOW).decode("utf-8"))
    assert parsed.name == "VCALENDAR"
    assert parsed.version.value == "2.0" and parsed.prodid.value == ics.PRODID
    vevents = list(parsed.vevent_list)
    assert len(vevents) == 1
    vevent = vevents[0]
    assert vevent.uid.value == ics.uid(event)
    assert vevent.dtstamp.value == NOW
    assert vevent.dtstart.value == datetime(2026, 12, 5, 9, tzinfo=UTC)
    assert vevent.dtend.value == datetime(2026, 12, 5, 11, 30, tzinfo=UTC)
    assert vevent.summary.value == NAME
    assert vevent.location.value == "3 allée des Épinettes, 91000 Évry-Courcouronnes"
    assert vevent.url.value == page_of(event)
    assert vevent.status.value == "CONFIRMED"
    assert vevent.description.value == f"{TRICKY}\n\n{page_of(event)}"


def test_times_are_written_in_utc(session):
    event = make_event(session)
    content = unfolded(ics.calendar(event, NOW))
    assert "DTSTART:20261205T090000Z" in content
    assert "DTEND:20261205T113000Z" in content
    assert "DTSTAMP:20261127T120000Z" in content
    assert not any("TZID" in line for line in content)


def test_times_are_in_utc_right_after_an_edit_given_in_local_time(session):
    """An edit promotes the waitlist and mails the .ics in the same transaction, before the event is
    read back from the database: the times must still go out in UTC (a TZID would need a VTIMEZONE)."""
    event = make_event(session)
    later = datetime(2026, 12, 6, 18, tzinfo=PARIS_TIME)
    data = EventInput(name=NAME, description="", begins_at=later, ends_at=later + timedelta(hours=2),
                      address=ADDRESS, capacity=40, category="debate")
    event = service.update(session, event, data, NOW, "fr")
    raw = ics.calendar(event, NOW)
    content = unfolded(raw)
    assert "DTSTART:20261206T170000Z" in content, [line for line in content if line.startswith("DT")]
    assert "DTEND:20261206T190000Z" in content
    assert "BEGIN:VTIMEZONE" in content or not any("TZID" in line for line in content)


def test_a_cancelled_event_is_marked_cancelled(session):
    event = make_event(session)
    service.cancel(session, event, NOW)
    _calendar, vevent = only_vevent(ics.calendar(event, NOW))
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert vobject.readOne(ics.calendar(event, NOW).decode("utf-8")).vevent.status.value == "CANCELLED"


def test_the_uid_is_stable_and_distinct_per_event(session):
    first, second = make_event(session), make_event(session)
    uid = str(only_vevent(ics.calendar(first, NOW))[1]["UID"])
    assert str(only_vevent(ics.calendar(first, NOW + timedelta(days=1)))[1]["UID"]) == uid
    assert str(only_vevent(ics.calendar(second, NOW))[1]["UID"]) != uid


def test_an_online_event_is_located_at_its_link(session):
    event = make_event(session, address=None, online_url="https://visio.example.org/salle?id=1;2,3",
                       category="online")
    _calendar, vevent = only_vevent(ics.calendar(event, NOW))
    assert str(vevent["LOCATION"]) == "https://visio.example.org/salle?id=1;2,3"


def test_lines_end_with_crlf_and_are_folded_at_75_octets(session):
    long_name = ("Grande réunion publique sur l'éducation, la santé, les transports et l'écologie "
                 "à Évry-Courcouronnes")[:120]
    event = make_event(session, name=long_name, description="Présentation " + "é" * 300 + " fin.\n" * 3)
    raw = ics.calendar(event, NOW)
    physical = lines(raw)
    too_long = [line for line in physical if len(line) > 75]
    assert too_long == [], too_long
    assert any(line.startswith(b" ") for line in physical), "nothing was folded"
    for line in physical:  # folding never cuts a UTF-8 sequence in two
        line.decode("utf-8")
    _calendar, vevent = only_vevent(raw)
    assert str(vevent["SUMMARY"]) == long_name
    assert str(vevent["DESCRIPTION"]).startswith("Présentation " + "é" * 300 + " fin.\n")


@pytest.mark.parametrize("description", [
    TRICKY,
    "a,b;c:d\\e",
    "Ligne 1\r\nLigne 2\n\nLigne 4",
])
def test_a_description_is_escaped_and_round_trips(session, description):
    event = make_event(session, description=description)
    raw = ics.calendar(event, NOW)
    lines(raw)
    line = next(line for line in unfolded(raw) if line.startswith("DESCRIPTION:"))
    value = line[len("DESCRIPTION:"):]
    # Only escaped forms remain: \, \; \n \\ (RFC 5545 §3.3.11).
    assert "\n" not in value
    assert not re.search(r"(?<!\\)(?:\\\\)*[,;]", value), value
    expected = f"{description.strip()}\n\n{page_of(event)}".replace("\r\n", "\n")
    assert str(only_vevent(raw)[1]["DESCRIPTION"]).replace("\r\n", "\n") == expected
    assert vobject.readOne(raw.decode("utf-8")).vevent.description.value.replace("\r\n", "\n") == expected


def test_a_summary_with_commas_and_semicolons_is_escaped(session):
    event = make_event(session)
    summary = next(line for line in unfolded(ics.calendar(event, NOW)) if line.startswith("SUMMARY:"))
    assert summary == "SUMMARY:Réunion « Été » à Évry\\, l'après-midi \\; café & débat"


def test_the_attachment_carries_the_calendar(session):
    event = make_event(session)
    attachment = ics.attachment(event, NOW)
    assert attachment["filename"] == f"{event.slug}.ics"
    assert attachment["content_type"].split(";")[0] == "text/calendar"
    assert "charset=utf-8" in attachment["content_type"]
    assert attachment["content"] == ics.calendar(event, NOW, ics.PUBLISH).decode("utf-8")
    assert "\r\n" in attachment["content"]


def test_place_is_the_address_on_one_line_or_the_link():
    assert ics.place(Event(address=ADDRESS)) == "3 allée des Épinettes, 91000 Évry-Courcouronnes"
    assert ics.place(Event(address={"postal_code": "91000"})) == "91000"
    assert ics.place(Event(address=None, online_url="https://visio.example.org/a")) == "https://visio.example.org/a"


# --- UID, METHOD and ORGANIZER (issue #23) -------------------------------------------------------------------


def test_the_uid_does_not_change_with_the_site_s_host_name(session, monkeypatch):
    """The web process, a worker and a moved site may each see another SITE_URL: the event stays one event."""
    event = make_event(session)
    uids = set()
    for site in ("http://127.0.0.1:5000", "http://0.0.0.0:8000", "https://agir.example.org"):
        monkeypatch.setitem(mail._config, "site_url", site)
        uids |= {str(only_vevent(ics.calendar(event, NOW))[1]["UID"]),
                 str(only_vevent(ics.attachment(event, NOW)["content"].encode())[1]["UID"])}
    [only] = uids
    assert not any(host in only for host in ("127.0.0.1", "0.0.0.0", "example.org"))


def test_the_uid_does_not_change_with_the_slug_or_the_event_s_details(session):
    event = make_event(session)
    uid = ics.uid(event)
    event.slug, event.name, event.sequence = "un-autre-nom", "Un autre nom", event.sequence + 1
    assert ics.uid(event) == uid
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", uid)  # RFC 7986


def test_two_events_with_one_id_on_two_sites_get_two_uids(session):
    """Another platform's event 1 is another event: the UID also depends on when the event was created."""
    event = make_event(session)
    twin = Event(id=event.id, created_at=event.created_at + timedelta(seconds=1))
    assert ics.uid(twin) != ics.uid(event)


def test_the_mailed_calendar_is_a_publish_with_its_organizer(session):
    """RFC 5546 §3.2.1: a PUBLISH's VEVENT has DTSTAMP, DTSTART, ORGANIZER, SUMMARY and UID; the MIME
    part's method parameter and the METHOD property say the same (RFC 5545 §3.7.2)."""
    event = make_event(session)
    attachment = ics.attachment(event, NOW)
    calendar, vevent = only_vevent(attachment["content"].encode())
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert "method=PUBLISH" in attachment["content_type"].replace(" ", "").split(";")
    for required in ("DTSTAMP", "DTSTART", "ORGANIZER", "SUMMARY", "UID"):
        assert required in vevent, required
    display, address = mail.sender().rsplit(" <", 1)
    assert str(vevent["ORGANIZER"]) == f"mailto:{address.rstrip('>')}"
    assert vevent["ORGANIZER"].params["CN"] == display
    parsed = vobject.readOne(attachment["content"])
    assert parsed.method.value == "PUBLISH" and parsed.vevent.organizer.value.startswith("mailto:")


def test_the_downloaded_calendar_is_a_plain_file_with_the_same_event(session):
    """Without METHOD the file is no iTIP message (nothing to answer, no method to match a Content-Type);
    its VEVENT is the mailed one, so a calendar that imported it recognises the mailed update."""
    event = make_event(session)
    calendar, vevent = only_vevent(ics.calendar(event, NOW))
    assert "METHOD" not in calendar
    _mailed, mailed = only_vevent(ics.attachment(event, NOW)["content"].encode())
    for name in ("UID", "SEQUENCE", "ORGANIZER", "DTSTART", "SUMMARY"):
        assert vevent[name] == mailed[name], name


def test_an_event_of_a_committee_is_organized_by_that_committee(session):
    committee = Committee(slug="comite-evry", name='Comité "Évry; centre", 1:2', address=ADDRESS,
                          postal_code="91000", department="91", status="approved")
    session.add(committee)
    session.flush()
    event = make_event(session, committee_id=committee.id)
    raw = ics.attachment(event, NOW)["content"]
    organizer = only_vevent(raw.encode())[1]["ORGANIZER"]
    assert organizer.params["CN"] == "Comité Évry; centre, 1:2"  # no DQUOTE: not every client reads RFC 6868
    assert vobject.readOne(raw).vevent.organizer.params["CN"] == ["Comité Évry; centre, 1:2"]
    assert str(organizer) == "mailto:" + mail.sender().rsplit("<", 1)[1].rstrip(">")


def test_the_uid_is_the_same_before_and_after_the_database_keeps_the_event(session):
    """MariaDB keeps whole seconds of ``created_at``: a UID computed before the commit must not differ."""
    values = {"name": NAME, "description": "", "begins_at": BEGINS, "ends_at": ENDS, "address": ADDRESS,
              "capacity": 40, "category": "debate"}
    event = service.create(session, EventInput(**values), organizer_id=None,
                           now=NOW.replace(microsecond=987_654))
    before = ics.uid(event)
    session.commit()
    session.expire_all()
    assert ics.uid(session.get(Event, event.id)) == before
