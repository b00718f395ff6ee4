"""The events list's search (``/events?near=75011&km=10``): its query arguments read and checked, then the events
found, nearest first around a postal code (online ones apart), or soonest first without one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from babel.numbers import format_decimal
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from engagement.accounts.models import User
from engagement.events import nearby, periods, service
from engagement.events.models import CATEGORIES, Event
from engagement.events.service import Narrowing
from engagement.geo import departments
from engagement.geo.communes import POSTAL_CODE, Location, directory
from engagement.geo.distances import point_of

# Every argument the list reads: the page cache keys on these and drops any other (web/pagecache.py).
ARGS = ("near", "km", "when", "from", "to", "category", "postal_code", "department", "committee", "page")
PAGE_SIZE = 30
MAX_PAGE = 1000
KM_CHOICES = (2, 5, 10, 20, 50, 100, 200)
PERIOD_LABELS = {"weekend": _l("This weekend"), "week": _l("The next 7 days"), "month": _l("This month")}
assert set(PERIOD_LABELS) == set(periods.PRESETS)
BAD_CODE = _l("Enter a postal code of 5 digits, such as 75011.")
UNKNOWN_CODE = _l("No French commune has the postal code %(code)s: check it, or search by department.")
BAD_KM = _l("Enter a whole number of kilometres from %(min)d to %(max)d.")
BAD_DATE = _l("Enter a date such as %(example)s.")
DATES_REVERSED = _l("The end date must be the same as or after the start date.")
NOT_A_DEPARTMENT = _l("This is not a French department number.")
HOME_NEAR = 4  # events on the home page's "near you"


@dataclass(frozen=True)
class Asked:
    """The list's arguments, checked: ``problems`` maps an input's id to its message (the list is not shown)."""

    near: str = ""
    km: int = nearby.DEFAULT_KM
    km_text: str = ""
    when: str = ""
    first_text: str = ""
    last_text: str = ""
    category: str = ""
    department: str = ""
    page: int = 1
    period: periods.Period = field(default_factory=periods.Period)
    problems: dict[str, str] = field(default_factory=dict)

    def link(self, **changes: Any) -> dict[str, Any]:
        """The arguments of this search (``url_for``), with ``changes``; the empty ones left out."""
        values = {"near": self.near, "km": self.km_text, "when": self.when, "from": self.first_text,
                  "to": self.last_text, "category": self.category, "department": self.department, **changes}
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class Found:
    """What the list shows: (event, km or None) pairs, online events apart (around a postal code)."""

    events: list[tuple[Event, float | None]]
    online: list[Event]
    more: bool
    total: int | None = None  # within the radius, around a postal code
    place: str = ""  # "75011 Paris 11e Arrondissement"


def asked(args: MultiDict[str, str], today: date) -> Asked:
    """Read the list's arguments (``postal_code``, the old exact filter, is read as ``near``)."""
    problems: dict[str, str] = {}
    near = (args.get("near") or args.get("postal_code") or "").strip()[:10]
    if near and not POSTAL_CODE.match(near):
        problems["near"] = str(BAD_CODE)
    elif near and not nearby.origins_of(near):
        problems["near"] = str(UNKNOWN_CODE) % {"code": near}
    km_text = (args.get("km") or "").strip()[:6]
    km = int(km_text) if km_text.isascii() and km_text.isdigit() else -1 if km_text else nearby.DEFAULT_KM
    if not nearby.MIN_KM <= km <= nearby.MAX_KM:
        problems["km"], km = str(BAD_KM) % {"min": nearby.MIN_KM, "max": nearby.MAX_KM}, nearby.DEFAULT_KM
    when = args.get("when", "").strip()
    when = when if when in periods.PRESETS else ""
    first, last = periods.preset(when, today) if when else (None, None)
    first_text, last_text = (args.get("from") or "").strip()[:10], (args.get("to") or "").strip()[:10]
    first, last = _day(first_text, "from", problems) or first, _day(last_text, "to", problems) or last
    if first and last and last < first and "to" not in problems:
        problems["to"] = str(DATES_REVERSED)
    category = args.get("category", "").strip()
    return Asked(near=near, km=km, km_text=km_text, when=when, first_text=first_text, last_text=last_text,
                 category=category if category in CATEGORIES else "", department=_department(args, problems),
                 page=_page(args), period=periods.Period.of_days(first, last), problems=problems)


def find(session: Session, search: Asked, now: datetime, committee_id: int | None) -> Found:
    """The events ``search`` asks for (nothing while it has problems)."""
    if search.problems:
        return Found([], [], more=False)
    narrowing = Narrowing(department=search.department or None, committee_id=committee_id,
                          category=search.category or None, period=search.period)
    start = (search.page - 1) * PAGE_SIZE
    if not search.near:
        events = service.upcoming(session, now, narrowing=narrowing, limit=PAGE_SIZE + 1, offset=start)
        return Found([(event, None) for event in events[:PAGE_SIZE]], [], more=len(events) > PAGE_SIZE)
    near = nearby.within(session, nearby.origins_of(search.near), now, km=search.km, narrowing=narrowing,
                         limit=PAGE_SIZE, offset=start)
    online = nearby.online(session, now, narrowing) if search.page == 1 else []
    return Found(list(near.events), online, more=near.total > start + PAGE_SIZE, total=near.total,
                 place=place_of(search.near))


def for_member(session: Session, user: User, now: datetime) -> tuple[str, int, list[tuple[Event, float]]] | None:
    """The home page's "near you": the member's postal code, the radius and the nearest events within it; None
    when their address does not place them."""
    postal_code, origins = member_origins(user)
    return near_origins(session, postal_code, origins, now) if origins else None


def member_origins(user: User) -> tuple[str, tuple[Location, ...]]:
    """The member's postal code, and the points "near you" is measured from (none: their address places them
    nowhere). Members with the same ones see the same events."""
    address = user.address or {}
    postal_code = str(address.get("postal_code") or "").strip()
    origin = point_of(address) if address.get("country", "FR") == "FR" else None
    return postal_code, nearby.origins_of(postal_code) or ((origin,) if origin else ())


def near_origins(session: Session, postal_code: str, origins: tuple[Location, ...],
                 now: datetime) -> tuple[str, int, list[tuple[Event, float]]]:
    """`for_member` from the member's `member_origins`."""
    found = nearby.within(session, origins, now, km=nearby.DEFAULT_KM, limit=HOME_NEAR)
    return postal_code, nearby.DEFAULT_KM, found.events


def place_of(postal_code: str) -> str:
    """"75011 Paris 11e Arrondissement"; "51300 (46 communes)" when a code has many."""
    names = [commune.name for commune in directory().cities(postal_code)]
    if len(names) > 3:
        return ngettext("%(code)s (%(num)d commune)", "%(code)s (%(num)d communes)", len(names), code=postal_code)
    return f"{postal_code} {', '.join(names)}"


def distance(km: float, locale: str) -> str:
    """"2,3 km" in French (a no-break space before the unit), "2.3 km" in English."""
    return f"{format_decimal(round(km, 1), format='#,##0.0', locale=locale)}\u00a0km"


def _day(text: str, name: str, problems: dict[str, str]) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        problems[name] = str(BAD_DATE) % {"example": "2026-12-10"}
        return None
    return day


def _department(args: MultiDict[str, str], problems: dict[str, str]) -> str:
    """The department or collectivity asked for, as typed (upper case); one that names none is a problem."""
    given = (args.get("department") or "").strip()[:3].upper()
    if given and departments.parse(given) is None:
        problems["department"] = str(NOT_A_DEPARTMENT)
    return given


def _page(args: MultiDict[str, str]) -> int:
    try:
        return max(1, min(MAX_PAGE, int(args.get("page", "1"))))
    except ValueError:
        return 1
