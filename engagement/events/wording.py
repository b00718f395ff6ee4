"""What an event's pages and mails say of it: its start in words, and the context of its mails."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from engagement.events import ics
from engagement.events.models import Event, EventRegistration
from engagement.mail import service as mail


def when(event: Event, locale: str) -> str:
    """The event's start in its own time zone, in words ("samedi 5 décembre 2026 à 10:00")."""
    return _when(event.begins_at, event.timezone, locale)


@lru_cache(maxsize=4096)  # a pure function of its arguments; lists show the same events to everyone
def _when(begins_at: datetime, timezone: str, locale: str) -> str:
    local = begins_at.astimezone(ZoneInfo(timezone))
    return format_datetime(local, "EEEE d MMMM y 'à' HH:mm" if locale == "fr" else "EEEE d MMMM y, HH:mm",
                           locale=locale)


def mail_context(event: Event, registration: EventRegistration | None, locale: str, **extra: Any) -> dict[str, Any]:
    return {"event": event, "registration": registration, "when": when(event, locale), "place": ics.place(event),
            "link": mail.absolute(f"/events/{event.slug}"), "events_link": mail.absolute("/events"), **extra}
