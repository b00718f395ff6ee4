"""The iCalendar (RFC 5545) view of an event: one VEVENT, times in UTC, cancelled events marked so.

The mailed copy is an iTIP PUBLISH (RFC 5546: METHOD, and the ORGANIZER a PUBLISH requires); the downloaded
file is a plain calendar object to import. Both carry the same VEVENT, its UID the same on every host."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.utils import parseaddr

from icalendar import Calendar, vCalAddress
from icalendar import Event as VEvent
from sqlalchemy.orm import object_session

from engagement.committees.models import Committee
from engagement.events.models import Event
from engagement.mail import service as mail

PRODID = "-//Engagement//Events//FR"
PUBLISH = "PUBLISH"
# Fixed for ever: changing it would give every event already in someone's calendar a second copy.
UID_NAMESPACE = uuid.UUID("8f5d1c52-3f1e-4d0b-9a57-2b1f0c7e6a31")


def place(event: Event) -> str:
    """The address on one line (or the online link)."""
    address = event.address or {}
    town = " ".join(p for p in (address.get("postal_code"), address.get("city_name")) if p)
    parts = [address.get("street", ""), town]
    line = ", ".join(p for p in parts if p)
    return line or (event.online_url or "")


def uid(event: Event) -> str:
    """A UUID (RFC 7986 §5.3) from the event's id and creation second: no host name, so the web process, a
    worker and a site moved to another domain give one event one UID; the creation time tells apart the
    events numbered alike on two platforms. Seconds only: what MariaDB keeps of a time."""
    created = event.created_at if event.created_at.tzinfo else event.created_at.replace(tzinfo=UTC)
    return str(uuid.uuid5(UID_NAMESPACE, f"event:{event.id}:{int(created.timestamp())}"))


def organizer(event: Event) -> vCalAddress:
    """Who publishes the event: its committee (else the platform) by name, at the platform's sender address,
    the only address the platform answers for (never an organizer's own)."""
    display, address = parseaddr(mail.sender())
    who = vCalAddress(f"mailto:{address}")
    name = _display_name(_committee_name(event) or display)
    if name:
        who.params["CN"] = name
    return who


def _committee_name(event: Event) -> str | None:
    session = object_session(event)
    if session is None or event.committee_id is None:
        return None
    committee = session.get(Committee, event.committee_id)
    return committee.name if committee is not None else None


def _display_name(name: str) -> str:
    """A CN value every client reads: printable, one line, no DQUOTE (escaped only by RFC 6868, which few
    clients know) nor the caret that escape uses."""
    kept = "".join(c if c.isprintable() else " " for c in name if c not in '"^')
    return " ".join(kept.split())[:100]


def calendar(event: Event, now: datetime, method: str | None = None) -> bytes:
    """The event as a .ics file (CRLF lines, folded at 75 octets by the library). ``method`` (``PUBLISH``) makes
    it an iTIP message, for a mail whose MIME part names the same method; without, a file to import."""
    page = mail.absolute(f"/events/{event.slug}")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    vevent = VEvent()
    vevent.add("uid", uid(event))
    vevent.add("organizer", organizer(event))
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
    """The .ics a mail carries: a PUBLISH, its MIME type naming the same method (RFC 5545 §3.7.2)."""
    return {"filename": f"{event.slug}.ics", "content_type": f"text/calendar; charset=utf-8; method={PUBLISH}",
            "content": calendar(event, now, PUBLISH).decode("utf-8")}
