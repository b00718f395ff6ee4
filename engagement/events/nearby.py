"""Upcoming events near a place: the list's search around a postal code, and what a new member could attend first.

Events store an address, not a point: the point is its commune's (the shipped directory). The database narrows
the candidates to the departments in reach (`departments_near`, on the indexed ``department`` column) and to
the period, type and committee asked; the distances are computed here, on what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engagement.events.models import Event
from engagement.events.service import ANYTHING, Narrowing, scheduled
from engagement.geo.communes import POSTAL_CODE, Location, directory
from engagement.geo.distances import departments_near, km_between, point_of

NEARBY_KM = 30.0
SCANNED = 500  # the soonest upcoming events looked at: enough for months ahead, bounded for the page
DEFAULT_KM, MIN_KM, MAX_KM = 10, 1, 200  # the list's radius
CANDIDATES = 2000  # at most this many in-person events in reach are measured, soonest first
ONLINE = 20  # online events listed beside a search


def origins_of(postal_code: str) -> tuple[Location, ...]:
    """The points of the communes carrying ``postal_code`` (empty for a malformed or unknown one)."""
    code = postal_code.strip()
    if not POSTAL_CODE.match(code):
        return ()
    return tuple(place for commune in directory().cities(code) if (place := commune.location) is not None)


@dataclass(frozen=True)
class Nearby:
    """A page of events within reach (each with its distance in kilometres) and how many there are in all."""

    events: list[tuple[Event, float]]
    total: int


def within(session: Session, origins: Sequence[Location], now: datetime, *, km: float,
           narrowing: Narrowing = ANYTHING, limit: int = 50, offset: int = 0) -> Nearby:
    """Upcoming in-person events within ``km`` of the nearest of ``origins``, nearest first (then soonest).

    Only the id, address and start of the candidates are read; the page's events are then loaded by id."""
    if not origins:
        return Nearby([], 0)
    in_reach = or_(Event.department.in_(sorted(departments_near(origins, km))),
                   and_(Event.department.is_(None), Event.online_url.is_(None)))  # abroad: measured, rarely many
    query = scheduled(now, narrowing).where(in_reach).limit(CANDIDATES)
    measured: list[tuple[float, datetime, int]] = []
    for event_id, address, begins_at in session.execute(query.with_only_columns(Event.id, Event.address,
                                                                                Event.begins_at)):
        place = point_of(address)
        if place is not None and (distance := min(km_between(origin, place) for origin in origins)) <= km:
            measured.append((distance, begins_at, event_id))
    measured.sort(key=lambda row: (round(row[0], 1), row[1], row[2]))
    page = measured[offset:offset + limit]
    loaded = {event.id: event for event in session.scalars(select(Event).where(Event.id.in_([r[2] for r in page])))}
    return Nearby([(loaded[event_id], distance) for distance, _begins, event_id in page], len(measured))


def online(session: Session, now: datetime, narrowing: Narrowing = ANYTHING, limit: int = ONLINE) -> list[Event]:
    """Upcoming online events (no address), soonest first."""
    query = scheduled(now, narrowing).where(Event.online_url.is_not(None), Event.postal_code.is_(None))
    return [event for event in session.scalars(query.limit(limit)) if not event.address]


def upcoming_near(session: Session, origin: Location, now: datetime, *, within_km: float = NEARBY_KM,
                  limit: int = 3) -> list[tuple[Event, float]]:
    """The soonest scheduled, not yet finished, in-person events within ``within_km`` of ``origin``, with
    their distance in kilometres."""
    # Online events have no address and no point: they are skipped below (a JSON null is not an SQL NULL).
    query = (select(Event).where(Event.status == "scheduled", Event.ends_at > now)
             .order_by(Event.begins_at, Event.id).limit(SCANNED))
    found: list[tuple[Event, float]] = []
    for event in session.scalars(query):
        place = point_of(event.address)
        if place is not None and (km := km_between(origin, place)) <= within_km:
            found.append((event, km))
            if len(found) == limit:
                break
    return found
