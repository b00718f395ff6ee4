"""What the search holds: one record per approved committee, upcoming scheduled event and published page.

A record is the JSON object Algolia stores (``objectID`` first); the local index keeps the same
object and searches its folded words. ``current`` re-reads one row and answers its record, or None
when it must leave the index (deleted, refused, cancelled, over, unpublished).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engagement.committees.models import Committee
from engagement.events.models import Event
from engagement.geo.communes import location_of
from engagement.pages import legal
from engagement.pages.models import ContentPage

Record = dict[str, Any]
KINDS = ("event", "committee", "page")
NEVER = 4102444800  # 2100-01-01 UTC: the ``expires_at`` of what does not expire (one numeric filter for all)
SUMMARY_LENGTH = 280


def object_id(kind: str, row_id: int) -> str:
    return f"{kind}-{row_id}"


def parse_object_id(value: str) -> tuple[str, int] | None:
    kind, _, number = value.partition("-")
    return (kind, int(number)) if kind in KINDS and number.isdigit() else None


def _summary(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_LENGTH else text[:SUMMARY_LENGTH - 1].rsplit(" ", 1)[0] + "…"


def _place(address: dict[str, Any] | None) -> dict[str, Any]:
    """City, postal code and Algolia's ``_geoloc``: the address's own ``lat``/``lng``, else where its French
    commune or postal code lies; ``geo_precision`` says which (``address``, or ``communes.PRECISIONS``)."""
    address = address or {}
    place: dict[str, Any] = {"city": address.get("city_name") or "", "postal_code": address.get("postal_code") or ""}
    lat, lng = address.get("lat"), address.get("lng")
    if isinstance(lat, int | float) and isinstance(lng, int | float):
        place["_geoloc"], place["geo_precision"] = {"lat": float(lat), "lng": float(lng)}, "address"
    elif (found := location_of(address)) is not None:
        place["_geoloc"], place["geo_precision"] = {"lat": found.lat, "lng": found.lng}, found.precision
    return place


def _timestamp(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


def committee_record(committee: Committee, now: datetime) -> Record | None:
    if committee.status != "approved":
        return None
    return {"objectID": object_id("committee", committee.id), "kind": "committee", "title": committee.name,
            "summary": _summary(committee.description or ""), "url": f"/committees/{committee.slug}",
            "department": committee.department, **_place(committee.address), "expires_at": NEVER}


def event_record(event: Event, now: datetime) -> Record | None:
    if event.status != "scheduled" or event.ends_at <= now:
        return None
    return {"objectID": object_id("event", event.id), "kind": "event", "title": event.name,
            "summary": _summary(event.description or ""), "url": f"/events/{event.slug}",
            "department": event.department, **_place(event.address), "is_online": event.address is None,
            "begins_at": _timestamp(event.begins_at), "timezone": event.timezone,
            "expires_at": _timestamp(event.ends_at)}


def page_record(page: ContentPage, now: datetime) -> Record | None:
    if not page.is_published:
        return None
    return {"objectID": object_id("page", page.id), "kind": "page", "title": page.title,
            "summary": _summary(page.body or ""), "url": legal.path(page.slug), "department": None,
            "city": "", "postal_code": "", "expires_at": NEVER}


BUILDERS: dict[str, tuple[Any, Callable[[Any, datetime], Record | None]]] = {
    "committee": (Committee, committee_record), "event": (Event, event_record), "page": (ContentPage, page_record),
}


def kind_of(row: object) -> str | None:
    """The kind of an indexed model's row (None for any other object)."""
    for kind, (model, _build) in BUILDERS.items():
        if isinstance(row, model):
            return kind
    return None


def current(session: Session, kind: str, row_id: int, now: datetime) -> Record | None:
    """The record of one row as it is now; None when it is not (or no longer) searchable."""
    model, build = BUILDERS[kind]
    row = session.get(model, row_id, populate_existing=True)
    return build(row, now) if row is not None else None


def _indexable(kind: str, now: datetime) -> Any:
    if kind == "committee":
        return Committee.status == "approved"
    if kind == "event":
        return (Event.status == "scheduled") & (Event.ends_at > now)
    return ContentPage.is_published.is_(True)


def count(session: Session, now: datetime) -> int:
    """How many records a full reindex writes."""
    return sum(int(session.scalar(select(func.count()).select_from(model).where(_indexable(kind, now))) or 0)
               for kind, (model, _build) in BUILDERS.items())


def every(session: Session, now: datetime, page_size: int) -> Iterator[list[Record]]:
    """Every record, one keyset page of ``page_size`` rows at a time (so memory stays flat)."""
    for kind, (model, build) in BUILDERS.items():
        after = 0
        while True:  # plain rows, not ORM objects: the builders only read their columns (twice as fast)
            rows = list(session.execute(select(*model.__table__.c).where(_indexable(kind, now), model.id > after)
                                        .order_by(model.id).limit(page_size)))
            if not rows:
                break
            after = rows[-1].id
            records = [record for row in rows if (record := build(row, now)) is not None]
            if records:
                yield records
