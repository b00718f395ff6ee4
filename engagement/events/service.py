"""Creating, editing, listing and cancelling events; writing to their participants."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from engagement.committees.models import Committee
from engagement.events.models import CATEGORIES, MAX_DURATION_DAYS, Event, EventRegistration, is_open, names_someone
from engagement.events.periods import Period
from engagement.events.registration import lock, notify, promote
from engagement.geo.communes import department_of
from engagement.mail import service as mail
from engagement.slugs import insert_with_slug

ACTIVE = ("registered", "waitlisted")


class EventError(ValueError):
    """An event that cannot be saved: ``field`` is the input at fault, ``code`` the rule broken.

    Codes: name, description, ends_before, too_long, place, capacity, category, timezone, online_url,
    committee (unknown or not approved).
    """

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field, self.code = field, code


@dataclass(frozen=True)
class EventInput:
    name: str
    description: str
    begins_at: datetime  # aware
    ends_at: datetime
    timezone: str = "Europe/Paris"
    address: dict[str, str] | None = None
    online_url: str | None = None
    capacity: int | None = None
    category: str = "meeting"
    committee_id: int | None = None


def check(session: Session, data: EventInput) -> None:
    """Refuse (EventError) what an event may not be."""
    if not data.name.strip() or len(data.name.strip()) > 120:
        raise EventError("name", "name")
    if len(data.description) > 5000:
        raise EventError("description", "description")
    if data.begins_at.tzinfo is None or data.ends_at.tzinfo is None or data.ends_at <= data.begins_at:
        raise EventError("ends_at", "ends_before")
    if data.ends_at - data.begins_at > timedelta(days=MAX_DURATION_DAYS):
        raise EventError("ends_at", "too_long")
    if not data.address and not data.online_url:
        raise EventError("address", "place")
    if data.online_url and (len(data.online_url) > 500 or not re.match(r"^https?://[^\s<>\"']+$", data.online_url)):
        raise EventError("online_url", "online_url")
    if data.capacity is not None and not 1 <= data.capacity <= 1_000_000:
        raise EventError("capacity", "capacity")
    if data.category not in CATEGORIES:
        raise EventError("category", "category")
    try:
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise EventError("timezone", "timezone") from None
    committee = session.get(Committee, data.committee_id) if data.committee_id is not None else None
    if data.committee_id is not None and (committee is None or committee.status != "approved"):
        raise EventError("committee_id", "committee")


def _apply(event: Event, data: EventInput) -> None:
    event.name, event.description = data.name.strip(), data.description.strip()
    event.begins_at, event.ends_at, event.timezone = data.begins_at, data.ends_at, data.timezone
    event.address, event.online_url = data.address or None, data.online_url or None
    event.postal_code = (data.address or {}).get("postal_code") or None
    event.department = department_of(data.address)
    event.capacity, event.category, event.committee_id = data.capacity, data.category, data.committee_id


def create(session: Session, data: EventInput, organizer_id: int | None, now: datetime) -> Event:
    check(session, data)
    event = Event(organizer_id=organizer_id, created_at=now)
    _apply(event, data)
    insert_with_slug(session, event, data.name)
    return event


def update(session: Session, event: Event, data: EventInput, now: datetime, locale: str) -> Event:
    """Save an edit; a larger capacity lets the waitlist in, in order."""
    check(session, data)
    event = lock(session, event.id)
    _apply(event, data)
    event.sequence += 1
    session.flush()
    if is_open(event, now):  # a cancelled or finished event lets nobody in (and mails nobody)
        promote(session, event, now)
    return event


_BY_SLUG = select(Event).where(Event.slug == bindparam("slug"))  # built once: an event's pages ask it each time
_WITH_COMMITTEE = (select(Event, Committee.slug, Committee.name)
                   .outerjoin(Committee, Committee.id == Event.committee_id).where(Event.slug == bindparam("slug")))


class CommitteeLink(NamedTuple):
    """The committee an event's page names and links to."""

    slug: str
    name: str


def by_slug(session: Session, slug: str) -> Event | None:
    return session.scalar(_BY_SLUG, {"slug": slug})


def with_committee(session: Session, slug: str) -> tuple[Event, CommitteeLink | None] | None:
    """The event ``slug`` and its committee's slug and name (None without one), in one query."""
    row = session.execute(_WITH_COMMITTEE, {"slug": slug}).first()
    if row is None:
        return None
    event, committee_slug, committee_name = row
    return event, CommitteeLink(committee_slug, committee_name) if committee_slug is not None else None


@dataclass(frozen=True)
class Narrowing:
    """What narrows a list of upcoming events, besides the place: each None (or empty) narrows nothing."""

    department: str | None = None
    committee_id: int | None = None
    category: str | None = None
    period: Period = field(default_factory=Period)


ANYTHING = Narrowing()


def scheduled(now: datetime, narrowing: Narrowing = ANYTHING) -> Select[Any]:
    """The query of scheduled events not over at ``now``, narrowed, soonest first."""
    period = narrowing.period
    query: Select[Any] = select(Event).where(Event.status == "scheduled", Event.ends_at > now)
    if period.ends_after is not None:
        query = query.where(Event.ends_at > period.ends_after)
    if period.starts_before is not None:
        query = query.where(Event.begins_at < period.starts_before)
    if narrowing.department:
        query = query.where(Event.department == narrowing.department.upper())
    if narrowing.committee_id is not None:
        query = query.where(Event.committee_id == narrowing.committee_id)
    if narrowing.category:
        query = query.where(Event.category == narrowing.category)
    return query.order_by(Event.begins_at, Event.id)


def upcoming(session: Session, now: datetime, *, postal_code: str | None = None, department: str | None = None,
             committee_id: int | None = None, narrowing: Narrowing | None = None, limit: int = 50,
             offset: int = 0) -> list[Event]:
    """Upcoming events, soonest first (``narrowing`` replaces ``department`` and ``committee_id``)."""
    query = scheduled(now, narrowing or Narrowing(department=department, committee_id=committee_id))
    if postal_code:
        query = query.where(Event.postal_code == postal_code)
    return list(session.scalars(query.limit(limit).offset(offset)))


def participants(session: Session, event: Event, statuses: tuple[str, ...] = ACTIVE) -> list[EventRegistration]:
    """Registered first, then the waitlist in its order (people erased since are no longer listed)."""
    rows = session.scalars(select(EventRegistration).where(
        EventRegistration.event_id == event.id, EventRegistration.status.in_(statuses),
        names_someone(),
    ).order_by(EventRegistration.status, EventRegistration.waitlisted_at, EventRegistration.id))
    return sorted(rows, key=lambda r: (r.status != "registered",))


def cancel(session: Session, event: Event, now: datetime) -> int:
    """Cancel an event: every registered and waitlisted person gets one mail (none on a second call)."""
    event = lock(session, event.id)
    if event.status == "cancelled" or event.ends_at <= now:  # a finished event is left as it was
        return 0
    event.status, event.cancelled_at = "cancelled", now
    event.sequence += 1  # calendars replace the copy they hold only for a higher SEQUENCE
    people = participants(session, event)
    for registration in people:
        notify(session, "event_cancelled", event, registration, now)
    return len(people)


def write_to_participants(session: Session, event: Event, *, subject: str, body: str, include_waitlist: bool,
                          reply_to: str | None, locale: str) -> int:
    """One mail per participant (the organizer's text, sent as written), in the caller's transaction."""
    statuses = ACTIVE if include_waitlist else ("registered",)
    people = participants(session, event, statuses)
    for registration in people:
        mail.compose(session, to=[registration.email], subject=subject, body=body, reply_to=reply_to,
                     locale=locale, context={}, literal=True)
    return len(people)
