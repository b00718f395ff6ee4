"""Places at events: capacity under the event row's lock, the waitlist in order, cancellation.

Every change of ``seats_taken`` happens while the event row is locked (SELECT ... FOR UPDATE; on
SQLite the writer lock), and is read by that locking read, so concurrent posts never overbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from engagement import signing
from engagement.db import transaction
from engagement.events import ics
from engagement.events.models import Event, EventRegistration, is_open
from engagement.events.wording import mail_context
from engagement.mail import service as mail

CANCEL_SALT = "event-registration-cancel"


class Closed(Exception):
    """The event is cancelled or over: nobody registers any more."""


@dataclass(frozen=True)
class Person:
    email: str
    first_name: str
    last_name: str
    postal_code: str = ""
    user_id: int | None = None


def lock(session: Session, event_id: int) -> Event:
    """The event row, locked for this transaction and read afresh."""
    return session.execute(select(Event).where(Event.id == event_id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def _existing(session: Session, event_id: int, email: str) -> EventRegistration | None:
    return session.execute(select(EventRegistration).where(
        EventRegistration.event_id == event_id, EventRegistration.email == email,
    ).with_for_update().execution_options(populate_existing=True)).scalar_one_or_none()


def place(session: Session, event_id: int, person: Person, *, waitlist: bool, now: datetime,
          locale: str) -> str:
    """Register ``person`` (or waitlist them when full and ``waitlist``): registered, waitlisted or full.

    Registering again updates the same row; a person already registered or waitlisted keeps their place
    (and gets no second confirmation).
    """
    event = lock(session, event_id)
    if not is_open(event, now):
        raise Closed(event.slug)
    email = person.email.strip().lower()
    row = _existing(session, event.id, email)
    if row is not None and row.status in ("registered", "waitlisted"):
        row.first_name, row.last_name, row.updated_at = person.first_name, person.last_name, now
        row.postal_code = person.postal_code or row.postal_code
        row.user_id = row.user_id or person.user_id
        session.flush()
        return row.status  # no second mail: a form anyone may fill must not mail an address at will
    if event.is_full and not waitlist:
        return "full"
    if row is None:
        row = EventRegistration(event_id=event.id, email=email, created_at=now, status="cancelled")
        session.add(row)
    row.first_name, row.last_name, row.postal_code = person.first_name, person.last_name, person.postal_code
    row.user_id, row.locale, row.updated_at, row.cancelled_at = person.user_id, locale, now, None
    if event.is_full:
        row.status, row.waitlisted_at = "waitlisted", now
    else:
        row.status, row.waitlisted_at = "registered", None
        event.seats_taken += 1
    session.flush()
    _confirm(session, event, row, now)
    return row.status


def cancel_link(registration: EventRegistration) -> str:
    return mail.absolute(f"/events/registrations/{signing.dumps(CANCEL_SALT, registration.id)}/cancel")


def read_cancel(token: str) -> int | None:
    value = signing.loads(CANCEL_SALT, token)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def notify(session: Session, template: str, event: Event, row: EventRegistration, now: datetime,
           calendar: bool = True) -> None:
    """One mail about ``event`` to one person, in their language, with the link to give the place up
    and (unless ``calendar`` is false) the event's .ics."""
    mail.compose(session, template=template, to=[row.email], locale=row.locale,
                 context=mail_context(event, row, row.locale, cancel_link=cancel_link(row)),
                 attachments=[ics.attachment(event, now)] if calendar else None)


def _confirm(session: Session, event: Event, row: EventRegistration, now: datetime) -> None:
    registered = row.status == "registered"
    notify(session, "event_registered" if registered else "event_waitlisted", event, row, now, calendar=registered)


def cancel(session: Session, registration_id: int, now: datetime) -> EventRegistration | None:
    """Give a place up (idempotent); the first on the waitlist takes a freed seat. None: unknown."""
    row = session.get(EventRegistration, registration_id)
    if row is None:
        return None
    event = lock(session, row.event_id)
    row = _existing(session, event.id, row.email)
    if row is None or row.status == "cancelled":
        return row
    if row.status == "registered":
        event.seats_taken = max(0, event.seats_taken - 1)
    row.status, row.cancelled_at, row.updated_at = "cancelled", now, now
    session.flush()
    if event.status == "scheduled" and event.ends_at > now:
        promote(session, event, now)
    return row


def promote(session: Session, event: Event, now: datetime) -> list[EventRegistration]:
    """Move the waitlist in, first come first served, while seats are free (the event is locked)."""
    promoted = []
    while not event.is_full:
        row = session.execute(select(EventRegistration).where(
            EventRegistration.event_id == event.id, EventRegistration.status == "waitlisted",
        ).order_by(EventRegistration.waitlisted_at, EventRegistration.id).limit(1).with_for_update()
            .execution_options(populate_existing=True)).scalar_one_or_none()
        if row is None:
            break
        row.status, row.promoted_at, row.updated_at = "registered", now, now
        event.seats_taken += 1
        session.flush()
        notify(session, "event_promoted", event, row, now)
        promoted.append(row)
    return promoted


def release_member(session: Session, user_id: int | None, now: datetime, email: str | None = None) -> int:
    """Give up the places an account (or an address) holds at events to come, before they are erased; how many.

    Places at events that are over stay as they are: they are those events' attendance."""
    holder = [*([EventRegistration.user_id == user_id] if user_id is not None else []),
              *([EventRegistration.email == email.strip().lower()] if email else [])]
    if not holder:
        return 0
    ids = list(session.scalars(select(EventRegistration.id).join(Event, Event.id == EventRegistration.event_id).where(
        or_(*holder), EventRegistration.status.in_(("registered", "waitlisted")),
        Event.status == "scheduled", Event.ends_at > now)))
    for registration_id in ids:
        cancel(session, registration_id, now)
    return len(ids)


REMINDER_WINDOW = timedelta(hours=24)


def due_reminders(session: Session, now: datetime, limit: int = 500) -> list[EventRegistration]:
    """Registered people of scheduled events starting within 24 hours, not yet reminded (locked, skipping
    rows another worker holds)."""
    query = (select(EventRegistration).join(Event, Event.id == EventRegistration.event_id).where(
        EventRegistration.status == "registered", EventRegistration.reminded_at.is_(None),
        Event.status == "scheduled", Event.begins_at > now, Event.begins_at <= now + REMINDER_WINDOW,
    ).order_by(EventRegistration.id).limit(limit).with_for_update(skip_locked=True, of=EventRegistration))
    return list(session.scalars(query))


def remind(session: Session, now: datetime, limit: int = 500) -> int:
    """Send up to ``limit`` due reminders, in the caller's transaction; each registrant gets one, ever
    (``reminded_at``)."""
    rows = due_reminders(session, now, limit)
    for row in rows:
        event = session.get(Event, row.event_id)
        assert event is not None
        row.reminded_at = now
        notify(session, "event_reminder", event, row, now)
    return len(rows)


def remind_all(factory: sessionmaker[Session], now: datetime, batch: int = 200) -> int:
    """Every due reminder, ``batch`` registrations a transaction (what the beat schedule runs every 5 minutes)."""
    total = 0
    while True:
        with transaction(factory) as session:
            sent = remind(session, now, batch)
        total += sent
        if sent < batch:
            return total
