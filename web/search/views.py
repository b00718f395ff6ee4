"""Search: ``/search`` renders results on the server (no JavaScript needed); ``/api/search`` answers the
same as JSON for the page's script, which updates the results as the supporter types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from flask import Blueprint, jsonify, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engagement.clock import PARIS
from engagement.db import utcnow
from engagement.geo import departments
from engagement.search import service
from engagement.search.port import PAGE_SIZE, Query, Results
from engagement.search.records import Record
from web.db import current_core, sessions
from web.extensions import JSON_API_LIMIT, limiter
from web.locale import LOCALES, current_locale
from web.public import public

bp = Blueprint("search", __name__)
MAX_QUERY = 100
MAX_PAGE = 50
KIND_LABELS = {"event": _l("Event"), "committee": _l("Committee"), "page": _l("Page")}


@dataclass(frozen=True)
class Asked:
    """The request's search, validated: unknown types are ignored, a bad department is reported."""

    text: str
    kind: str | None
    department: str | None
    page: int
    bad_department: bool

    def query(self) -> Query:
        return Query(self.text, utcnow(), kind=self.kind, department=self.department,
                     limit=PAGE_SIZE, offset=(self.page - 1) * PAGE_SIZE)


def asked() -> Asked:
    args = request.args
    kind = args.get("type", "").strip()
    given = args.get("department", "").strip()[:3]
    try:
        page = max(1, min(MAX_PAGE, int(args.get("page", "1"))))
    except ValueError:
        page = 1
    code = departments.parse(given)
    return Asked(text=" ".join(args.get("q", "").split())[:MAX_QUERY], kind=kind if kind in KIND_LABELS else None,
                 department=code, page=page, bad_department=bool(given) and code is None)


def _when(record: Record, locale: str) -> str:
    if not isinstance(record.get("begins_at"), int):
        return ""
    try:
        zone = ZoneInfo(record["timezone"]) if record.get("timezone") else PARIS
    except (ZoneInfoNotFoundError, ValueError):
        zone = PARIS
    moment = datetime.fromtimestamp(record["begins_at"], UTC).astimezone(zone)
    return format_datetime(moment, "EEEE d MMMM y 'à' HH:mm" if locale == "fr" else "EEEE d MMMM y, HH:mm",
                           locale=locale)


def present(record: Record, locale: str) -> dict[str, Any]:
    """What a result shows, in ``locale``: the same for the page and the JSON."""
    place = " ".join(p for p in (record.get("postal_code"), record.get("city")) if p)
    if record.get("is_online"):
        place = str(_("Online"))
    return {"kind": record.get("kind"), "kind_label": str(KIND_LABELS.get(record.get("kind", ""), "")),
            "title": record.get("title", ""), "url": record.get("url", "/"), "summary": record.get("summary", ""),
            "when": _when(record, locale), "place": place}


def status(search: Asked, results: Results) -> str:
    if not search.text and not search.kind and not search.department:
        return _("Type a word to find events, committees and pages.")
    if not results.hits:
        return _("No result for “%(query)s”.", query=search.text) if search.text else _("No result.")
    return _("Results for “%(query)s”.", query=search.text) if search.text else _("Results.")


@bp.get("/search")
@public(args=("type", "department", "page"), unless=("q",))
def index() -> Any:
    search = asked()
    results = service.search(sessions(), search.query())
    locale = current_locale()
    return render_template("search/index.html", search=search, results=[present(r, locale) for r in results.hits],
                           has_more=results.has_more, status=status(search, results), kinds=KIND_LABELS)


@bp.get("/api/search")
@limiter.limit(JSON_API_LIMIT)  # a supporter typing fires a request every few keystrokes
def api() -> Any:
    """``{"query", "type", "department", "page", "status", "results": [...], "has_more"}``; the text is in
    ``?lang=`` (not the visitor's session), so that the answer depends on its URL only and may be cached."""
    search = asked()
    lang = request.args.get("lang", "")
    locale = lang if lang in LOCALES else current_core().settings.default_locale
    results = service.search(sessions(), search.query())
    with force_locale(locale):
        body = {"query": search.text, "type": search.kind, "department": search.department, "page": search.page,
                "status": status(search, results), "results": [present(r, locale) for r in results.hits],
                "has_more": results.has_more, "degraded": results.degraded}
    response = jsonify(body)
    response.cache_control.public = True  # the same for everyone who asks this URL
    response.cache_control.max_age = 30  # a change reaches the index within seconds: keep copies short
    return response
