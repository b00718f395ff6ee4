"""How far apart two places are, and where an address lies for that purpose."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from math import asin, cos, radians, sin, sqrt
from typing import Any

from engagement.geo.communes import Location, department_of, directory, location_of

EARTH_RADIUS_KM = 6371.0
KM_PER_DEGREE = 111.2  # of latitude; of longitude, times the cosine of the latitude
BOX_MARGIN_KM = 10.0  # a department's box is its communes' points: a point of its own may lie a little outside
Box = tuple[float, float, float, float]  # south, west, north, east


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


def departments_near(origins: Iterable[Location], km: float) -> frozenset[str]:
    """The departments (as events store them) that may hold a point within ``km`` of one of ``origins``: those
    whose communes' box, widened by ``BOX_MARGIN_KM``, meets the origin's box of that radius."""
    found = set()
    for origin in origins:
        reach = km + BOX_MARGIN_KM
        dlat = reach / KM_PER_DEGREE
        dlng = min(180.0, reach / (KM_PER_DEGREE * max(0.01, cos(radians(origin.lat)))))
        for department, (south, west, north, east) in department_boxes().items():
            if (south - dlat <= origin.lat <= north + dlat) and (west - dlng <= origin.lng <= east + dlng):
                found.add(department)
    return frozenset(found)


@cache
def department_boxes() -> dict[str, Box]:
    """Each department's box around its communes' points, keyed as `department_of` names it (2A, 974...)."""
    boxes: dict[str, Box] = {}
    for commune in directory().by_code.values():
        department, place = department_of({"city": commune.code}), commune.location
        if department is None or place is None:
            continue
        south, west, north, east = boxes.get(department, (place.lat, place.lng, place.lat, place.lng))
        boxes[department] = (min(south, place.lat), min(west, place.lng), max(north, place.lat), max(east, place.lng))
    return boxes
