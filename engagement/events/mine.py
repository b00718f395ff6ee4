"""Where a member stands: their place at an event (registered, or waitlisted at a position), and all their
places at upcoming events for their account page (one query, the waitlist positions counted in it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, aliased

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


def _theirs(user_id: Any, email: Any) -> ColumnElement[bool]:
    """A registration is the member's when their account took it, or their address did before they joined."""
    return or_(EventRegistration.user_id == user_id, EventRegistration.email == email)


# The member pages' statements, built once (building one costs more than running it on SQLite): the member,
# the event and the time are bound at each call. An active place is one of ``ACTIVE``'s statuses, said with OR:
# ``in_`` makes an expanding parameter, whose SQL is rendered again at each execution.
_ACTIVE = or_(*(EventRegistration.status == status for status in ACTIVE))
_AT_EVENT = select(EventRegistration).where(
    EventRegistration.event_id == bindparam("event_id"), _ACTIVE,
    _theirs(bindparam("user_id"), bindparam("email"))).order_by(EventRegistration.id).limit(1)
_WAITING = aliased(EventRegistration, name="waiting")
_RANK = (select(func.count(_WAITING.id) + 1)  # 1 + those ahead on the waitlist, counted in the places' own query
         .where(_WAITING.event_id == EventRegistration.event_id, _WAITING.status == "waitlisted",
                or_(_WAITING.waitlisted_at < EventRegistration.waitlisted_at,
                    (_WAITING.waitlisted_at == EventRegistration.waitlisted_at) & (_WAITING.id < EventRegistration.id)))
         .correlate(EventRegistration).scalar_subquery())
_UPCOMING = (select(Event.slug, Event.name, Event.begins_at, Event.timezone, EventRegistration.status,
                    case((and_(EventRegistration.status == "waitlisted", EventRegistration.waitlisted_at.is_not(None)),
                          _RANK), else_=None))
             .join(Event, Event.id == EventRegistration.event_id)
             .where(_ACTIVE, _theirs(bindparam("user_id"), bindparam("email")),
                    Event.status == "scheduled", Event.ends_at > bindparam("now"))
             .order_by(Event.begins_at, Event.id).limit(200))
_FIRST_UPCOMING = _UPCOMING.add_columns(func.count().over()).limit(bindparam("limit"))  # and how many in all
_MINE, _AHEAD = aliased(EventRegistration, name="mine"), aliased(EventRegistration, name="ahead")
_POSITIONS = (select(_MINE.id, func.count(_AHEAD.id))
              .outerjoin(_AHEAD, and_(_AHEAD.event_id == _MINE.event_id, _AHEAD.status == "waitlisted",
                                      or_(_AHEAD.waitlisted_at < _MINE.waitlisted_at,
                                          (_AHEAD.waitlisted_at == _MINE.waitlisted_at) & (_AHEAD.id < _MINE.id))))
              .where(_MINE.id.in_(bindparam("ids", expanding=True))).group_by(_MINE.id))


def _member(user_id: int, email: str) -> dict[str, Any]:
    return {"user_id": user_id, "email": email.strip().lower()}


def position(session: Session, row: EventRegistration) -> int | None:
    """1 for the first on the waitlist (None when not waitlisted): the order `registration.promote` follows."""
    if row.status != "waitlisted" or row.waitlisted_at is None:
        return None
    return positions(session, [row.id]).get(row.id)


def positions(session: Session, waiting: list[int]) -> dict[int, int]:
    """`position` of each of the waitlisted registrations ``waiting``, by id, in one query (none without any)."""
    if not waiting:
        return {}
    return {row_id: int(count or 0) + 1 for row_id, count in session.execute(_POSITIONS, {"ids": waiting})}


def at_event(session: Session, event: Event, user_id: int, email: str) -> Place | None:
    """The member's active place at ``event``, if any."""
    row = session.scalar(_AT_EVENT, {"event_id": event.id, **_member(user_id, email)})
    return Place(event, row, position(session, row)) if row is not None else None


class Upcoming(NamedTuple):
    """A place at an upcoming event as the member's page lists it (``when`` reads ``begins_at`` and ``timezone``)."""

    slug: str
    name: str
    begins_at: datetime
    timezone: str
    status: str  # registered or waitlisted
    position: int | None  # on the waitlist, 1 = next to get a seat


def upcoming(session: Session, user_id: int, email: str, now: datetime) -> list[Upcoming]:
    """The member's places at scheduled events not over yet, soonest first, with their waitlist positions: one
    query, whatever their number."""
    return [Upcoming(*row) for row in session.execute(_UPCOMING, {"now": now, **_member(user_id, email)})]


def first_upcoming(session: Session, user_id: int, email: str, now: datetime, limit: int) -> tuple[list[Upcoming], int]:
    """The soonest ``limit`` of `upcoming`, and how many there are in all: one query, whatever their number."""
    # On the connection: plain rows, without the ORM's setup of each statement (a read: nothing to flush first)
    rows = session.connection().execute(_FIRST_UPCOMING, {"now": now, "limit": limit, **_member(user_id, email)}).all()
    return [Upcoming(*row[:6]) for row in rows], int(rows[0][6]) if rows else 0


def person(user: Any) -> Person:
    """The member as a registrant: their account's name, address and id."""
    postal_code = (getattr(user, "address", None) or {}).get("postal_code") or ""
    return Person(user.email, user.first_name, user.last_name, postal_code, user.id)
