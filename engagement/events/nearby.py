"""Upcoming events near a place: what a new member could attend first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.events.models import Event
from engagement.geo.communes import Location
from engagement.geo.distances import km_between, point_of

NEARBY_KM = 30.0
SCANNED = 500  # the soonest upcoming events looked at: enough for months ahead, bounded for the page


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
