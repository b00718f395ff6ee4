"""How far apart two places are, and where an address lies for that purpose."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt
from typing import Any

from engagement.geo.communes import Location, location_of

EARTH_RADIUS_KM = 6371.0


def point_of(address: dict[str, Any] | None) -> Location | None:
    """Where an address lies: its own ``lat``/``lng`` when it has them, else its French commune or postal code."""
    if not address:
        return None
    lat, lng = address.get("lat"), address.get("lng")
    if isinstance(lat, int | float) and isinstance(lng, int | float):
        return Location(float(lat), float(lng), "address")
    return location_of(address)


def km_between(a: Location, b: Location) -> float:
    """The great-circle distance in kilometres (haversine): exact enough between communes."""
    lat1, lat2 = radians(a.lat), radians(b.lat)
    half = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin(radians(b.lng - a.lng) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(half)))
