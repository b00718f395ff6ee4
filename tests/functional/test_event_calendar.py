"""An event's calendar as a visitor downloads it (``/events/<slug>.ics``) and as its confirmation mail carries it:
one UID whatever Host the request names, a plain file to import for the download, an RFC 5546 PUBLISH with its
ORGANIZER in the mail; both parsed by the icalendar library."""

from __future__ import annotations

from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select

from engagement.db import transaction, utcnow
from engagement.events import ics, registration
from engagement.events.models import Event
from engagement.events.registration import Person
from tests.functional.helpers import mails
from tests.functional.test_event_registration import create_event


def vevent_of(raw: bytes) -> Any:
    calendar = Calendar.from_ical(raw)
    [vevent] = [component for component in calendar.walk() if component.name == "VEVENT"]
    return calendar, vevent


@pytest.mark.parametrize("hosts", [("localhost", "agir.example.org"), ("127.0.0.1:5000", "evil.example:8080")])
def test_the_uid_is_the_same_whatever_host_the_request_names(client, app, hosts):
    slug = create_event(app, "Réunion d'été")
    uids = set()
    for host in hosts:
        response = client.client.get(f"/events/{slug}.ics", headers={"Host": host})
        assert response.status_code == 200, host
        uids.add(str(vevent_of(response.get_data())[1]["UID"]))
    [uid] = uids
    assert not any(host.split(":")[0] in uid for host in hosts)


def test_the_download_is_a_calendar_to_import_and_the_mail_a_publish_of_the_same_event(client, app, read):
    slug = create_event(app, "Réunion d'été")
    download = client.client.get(f"/events/{slug}.ics")
    calendar, downloaded = vevent_of(download.get_data())
    assert "METHOD" not in calendar and "method=" not in download.headers["Content-Type"]
    assert str(downloaded["ORGANIZER"]).startswith("mailto:")

    with transaction(app.extensions["engagement"].sessions) as session:
        event_id = session.scalar(select(Event.id).where(Event.slug == slug))
        registration.place(session, event_id, Person("camille@example.org", "Camille", "Martin"),
                           waitlist=False, now=utcnow(), locale="fr")
    [attachment] = mails(read())[-1].attachments
    mailed_calendar, mailed = vevent_of(attachment["content"].encode())
    assert str(mailed_calendar["METHOD"]) == ics.PUBLISH and "method=PUBLISH" in attachment["content_type"]
    for name in ("UID", "ORGANIZER", "SEQUENCE", "DTSTART", "SUMMARY", "DTSTAMP"):
        assert name in mailed, name
    assert mailed["UID"] == downloaded["UID"] and mailed["ORGANIZER"] == downloaded["ORGANIZER"]
