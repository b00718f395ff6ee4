"""The iCalendar (RFC 5545) view of an event: one VEVENT, times in UTC, cancelled events marked so."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from icalendar import Calendar
from icalendar import Event as VEvent

from engagement.events.models import Event
from engagement.mail import service as mail

PRODID = "-//Engagement//Events//FR"


def place(event: Event) -> str:
    """The address on one line (or the online link)."""
    address = event.address or {}
    town = " ".join(p for p in (address.get("postal_code"), address.get("city_name")) if p)
    parts = [address.get("street", ""), town]
    line = ", ".join(p for p in parts if p)
    return line or (event.online_url or "")


def calendar(event: Event, now: datetime) -> bytes:
    """The event as a .ics file (CRLF lines, folded at 75 octets by the library)."""
    page = mail.absolute(f"/events/{event.slug}")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    vevent = VEvent()
    vevent.add("uid", f"event-{event.id}@{urlsplit(page).hostname or 'engagement'}")
    # Always UTC: a time still in the zone it was given in (an edit not yet read back) would be
    # written with a TZID that no VTIMEZONE of the file defines.
    vevent.add("dtstamp", now.astimezone(UTC))
    vevent.add("dtstart", event.begins_at.astimezone(UTC))
    vevent.add("dtend", event.ends_at.astimezone(UTC))
    vevent.add("sequence", event.sequence)
    vevent.add("summary", event.name)
    if event.description:
        vevent.add("description", f"{event.description}\n\n{page}")
    location = place(event)
    if location:
        vevent.add("location", location)
    vevent.add("url", page)
    vevent.add("status", "CANCELLED" if event.status == "cancelled" else "CONFIRMED")
    cal.add_component(vevent)
    return bytes(cal.to_ical())


def attachment(event: Event, now: datetime) -> dict[str, str]:
    return {"filename": f"{event.slug}.ics", "content_type": "text/calendar; charset=utf-8; method=PUBLISH",
            "content": calendar(event, now).decode("utf-8")}
