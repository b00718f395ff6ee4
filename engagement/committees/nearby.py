"""The approved committee nearest a place (a new member's address, say)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.committees.models import Committee
from engagement.geo.communes import Location
from engagement.geo.distances import km_between, point_of

NEARBY_KM = 50.0  # farther than this, a committee is not "near" (the member is pointed to the list instead)


def nearest(session: Session, origin: Location, within_km: float = NEARBY_KM) -> tuple[Committee, float] | None:
    """The approved committee nearest ``origin`` within ``within_km``, with its distance; None if none is."""
    best: tuple[Committee, float] | None = None
    for committee in session.scalars(select(Committee).where(Committee.status == "approved")):
        place = point_of(committee.address)
        if place is None:
            continue
        km = km_between(origin, place)
        if km <= within_km and (best is None or km < best[1]):
            best = (committee, km)
    return best
