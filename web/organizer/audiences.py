"""The organizer area's audience lists: members per committee and department, read from the stored lists.

A list is served as stored (gzip JSON) with a weak ETag, the SHA-256 of the JSON: weak, because the
gzip and the plain answers carry the same JSON under the same tag (what nginx does when it gzips).
A list never built yet is built here, once, before it is served (100,000 members take 0.7 s on
SQLite, 1.4 s on MariaDB: bench/audience_lists.py), so that the link works without a worker and
without a script polling a 202; from then on the background keeps it current.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from engagement.accounts import scopes
from engagement.campaigns import lists
from engagement.clock import PARIS
from engagement.committees.models import Committee
from engagement.db import transaction, utcnow
from engagement.geo import departments
from web.access import record
from web.auth.roles import role_required
from web.db import db, sessions
from web.organizer import bp, export
from web.organizer.scoping import reach, scoped
from web.responses import NO_STORE

REVALIDATE = {"Cache-Control": "private, no-cache", "Vary": "Accept-Encoding"}


def _when(moment: datetime | None) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if moment else ""


def _approved() -> list[Committee]:
    """The approved committees in the organizer's scope."""
    return scopes.committees_in(db(), reach(), limit=100_000)


def _department_codes() -> list[str]:
    """Every department and overseas collectivity; for an organizer without the national scope, the
    departments they are the referent of."""
    return list(departments.codes()) if reach().national else sorted(reach().departments)


@bp.get("/audiences")
@role_required("organizer")
@scoped("any")
def audiences() -> Any:
    stored = lists.summaries(db())
    rows = {
        "departments": [(departments.label(code), url_for("organizer.audience_json", kind="department", value=code),
                         stored.get(lists.department_key(code))) for code in _department_codes()],
        "committees": [(c.name, url_for("organizer.audience_json", kind="committee", value=c.slug),
                        stored.get(lists.committee_key(c.id))) for c in _approved()],
    }
    return render_template("organizer/audiences.html", rows=rows, when=_when), 200, NO_STORE


@bp.post("/audiences/build")
@role_required("organizer")
@scoped("any")
def build_missing() -> Any:
    """Queue a build of every list that does not exist yet (members who joined before lists existed)."""
    stored = lists.summaries(db())
    where = reach()
    keys = [lists.department_key(code) for code in departments.codes() if where.national or code in where.departments]
    keys += [lists.committee_key(c.id) for c in _approved()]
    missing = [key for key in keys if key not in stored]
    if missing:
        with transaction(sessions()) as dbs:
            lists.mark_dirty(dbs, missing, utcnow())
    flash(ngettext("%(num)d list is being built: reload this page in a moment.",
                   "%(num)d lists are being built: reload this page in a moment.", len(missing)) if missing
          else _("Every list is already built."))
    return redirect(url_for("organizer.audiences"), code=303)


@bp.get("/audiences/<kind>/<value>.json")
@role_required("organizer")
@scoped("audience")
def audience_json(kind: str, value: str) -> Any:
    stored = _stored(kind, value)
    if stored is None:  # a build failed to store it: should not happen, but never loop on it
        return Response(status=503, headers={"Retry-After": "5", **REVALIDATE})
    if request.if_none_match.contains_weak(stored.etag):
        response = Response(status=304, headers=REVALIDATE)  # nothing shown again: not logged again
    else:
        plain = gzip.decompress(stored.body)
        _logged("audience", kind, value, json.loads(plain))
        if request.accept_encodings["gzip"]:
            response = Response(stored.body, mimetype="application/json",
                                headers={"Content-Encoding": "gzip", **REVALIDATE})
        else:
            response = Response(plain, mimetype="application/json", headers=REVALIDATE)
    response.set_etag(stored.etag, weak=True)
    return response


@bp.get("/audiences/<kind>/<value>.csv")
@role_required("organizer")
@scoped("audience")
def audience_csv(kind: str, value: str) -> Any:
    """The same list as a spreadsheet: the same people, the same checks as its JSON."""
    stored = _stored(kind, value)
    if stored is None:
        return Response(status=503, headers={"Retry-After": "5", **NO_STORE})
    members = json.loads(gzip.decompress(stored.body))
    _logged("audience_csv", kind, value, members)
    body = export.audience_csv(members)
    return Response(body, mimetype="text/csv", headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="audience-{kind}-{value}.csv"'})


def _logged(action: str, kind: str, value: str, members: list[dict[str, Any]]) -> None:
    record(action, f"audience:{kind}:{value}", (m.get("id") for m in members), people=len(members))


def _stored(kind: str, value: str) -> lists.Stored | None:
    """The stored list of a committee's or department's members, built now if missing; 404 for no such list."""
    key = lists.key_of(db(), f"{kind}:{value}") if kind in ("committee", "department") else None
    if key is None:
        abort(404)
    stored = lists.read(db(), key)
    if stored is not None:
        return stored
    lists.build(sessions(), key)
    with sessions()() as fresh:  # the request's session may hold a snapshot from before the build
        return lists.read(fresh, key)
