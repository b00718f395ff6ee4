"""Where a member stands: their place at an event (registered, or waitlisted at a position), and all their
places at upcoming events for their account page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from engagement.events.models import Event, EventRegistration
from engagement.events.registration import Person
from engagement.events.service import ACTIVE


@dataclass(frozen=True)
class Place:
    """A member's place at an event: ``status`` registered or waitlisted; ``position`` 1 = next to get a seat."""

    event: Event
    registration: EventRegistration
    position: int | None = None

    @property
    def status(self) -> str:
        return self.registration.status


def _theirs(user_id: int, email: str) -> ColumnElement[bool]:
    """A registration is the member's when their account took it, or their address did before they joined."""
    return or_(EventRegistration.user_id == user_id, EventRegistration.email == email.strip().lower())


def position(session: Session, row: EventRegistration) -> int | None:
    """1 for the first on the waitlist (None when not waitlisted): the order `registration.promote` follows."""
    if row.status != "waitlisted" or row.waitlisted_at is None:
        return None
    ahead = session.scalar(select(func.count()).select_from(EventRegistration).where(
        EventRegistration.event_id == row.event_id, EventRegistration.status == "waitlisted",
        or_(EventRegistration.waitlisted_at < row.waitlisted_at,
            (EventRegistration.waitlisted_at == row.waitlisted_at) & (EventRegistration.id < row.id))))
    return int(ahead or 0) + 1


def at_event(session: Session, event: Event, user_id: int, email: str) -> Place | None:
    """The member's active place at ``event``, if any."""
    row = session.scalar(select(EventRegistration).where(
        EventRegistration.event_id == event.id, EventRegistration.status.in_(ACTIVE), _theirs(user_id, email),
    ).order_by(EventRegistration.id).limit(1))
    return Place(event, row, position(session, row)) if row is not None else None


def upcoming(session: Session, user_id: int, email: str, now: datetime) -> list[Place]:
    """The member's places at scheduled events not over yet, soonest first."""
    found = session.execute(select(EventRegistration, Event).join(Event, Event.id == EventRegistration.event_id)
                            .where(EventRegistration.status.in_(ACTIVE), _theirs(user_id, email),
                                   Event.status == "scheduled", Event.ends_at > now)
                            .order_by(Event.begins_at, Event.id).limit(200))
    return [Place(event, row, position(session, row)) for row, event in found]


def person(user: Any) -> Person:
    """The member as a registrant: their account's name, address and id."""
    postal_code = (getattr(user, "address", None) or {}).get("postal_code") or ""
    return Person(user.email, user.first_name, user.last_name, postal_code, user.id)
