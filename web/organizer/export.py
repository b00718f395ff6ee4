"""The participants of an event as a CSV file a spreadsheet opens safely."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from engagement.events.models import Event, EventRegistration
from engagement.spreadsheets import BOM, neutralised

REGISTRATION_STATUSES = {"registered": _l("Registered"), "waitlisted": _l("Waitlisted")}


def local_time(event: Event, moment: datetime | None) -> str:
    """A moment in the event's own time zone, as spreadsheets read it ("2026-12-05 10:00")."""
    return moment.astimezone(ZoneInfo(event.timezone)).strftime("%Y-%m-%d %H:%M") if moment else ""


def participants_csv(event: Event, people: Sequence[EventRegistration]) -> str:
    """RFC 4180 (comma, CRLF, quotes doubled) with a byte order mark; registered first, then the waitlist."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([str(h) for h in (_l("Status"), _l("Waitlist position"), _l("First name"), _l("Last name"),
                                      _l("Email"), _l("Postal code"), _l("Registered on"))])
    position = 0
    for person in people:
        position += person.status == "waitlisted"
        row = [str(REGISTRATION_STATUSES.get(person.status, person.status)),
               str(position) if person.status == "waitlisted" else "", person.first_name, person.last_name,
               person.email, person.postal_code, local_time(event, person.created_at)]
        writer.writerow([neutralised(cell) for cell in row])
    return BOM + out.getvalue()


AUDIENCE_COLUMNS = (("first_name", _l("First name")), ("last_name", _l("Last name")),
                    ("postal_code", _l("Postal code")), ("city_name", _l("City")), ("joined_at", _l("Since (UTC)")),
                    ("role", _l("Role")))


ROLES = {"host": _l("Host"), "follower": _l("Follower")}


def audience_csv(members: Sequence[dict[str, object]]) -> str:
    """An audience list (as stored: engagement.campaigns.lists) as CSV a spreadsheet opens safely."""
    columns = [(key, label) for key, label in AUDIENCE_COLUMNS if key != "role" or any("role" in m for m in members)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([str(label) for _key, label in columns])
    for member in members:
        writer.writerow([neutralised(_cell(key, member.get(key))) for key, _label in columns])
    return BOM + out.getvalue()


def _cell(key: str, value: object) -> str:
    if value is None:
        return ""
    return str(ROLES.get(str(value), value)) if key == "role" else str(value)
