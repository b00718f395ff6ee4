"""Public event pages: the list with filters, an event, its .ics, registering, and cancelling a place."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from engagement.committees.models import Committee
from engagement.committees.service import by_slug as committee_by_slug
from engagement.db import transaction, utcnow
from engagement.events import ics, registration, service
from engagement.events.models import Event, EventRegistration
from engagement.workflow import definitions
from forms.events import CATEGORY_LABELS
from web.db import db, sessions
from web.extensions import csrf
from web.locale import current_locale
from web.public import public
from web.resilience import needs_session
from web.wizard.views import open_with

bp = Blueprint("events", __name__)
NO_STORE = {"Cache-Control": "no-store"}
WORKFLOW = "event_registration"
PAGE_SIZE = 30


def event_or_404(slug: str) -> Event:
    event = service.by_slug(db(), slug)
    if event is None:
        abort(404)
    return event


@bp.get("/events")
@public(args=("postal_code", "department", "committee", "page"))
def listing() -> Any:
    args = request.args
    postal_code = (args.get("postal_code") or "").strip()[:10] or None
    department = (args.get("department") or "").strip()[:3] or None
    committee = committee_by_slug(db(), args["committee"]) if args.get("committee") else None
    if args.get("committee") and (committee is None or committee.status != "approved"):
        abort(404)
    try:
        page = max(1, min(1000, int(args.get("page", "1"))))
    except ValueError:
        page = 1
    events = service.upcoming(db(), utcnow(), postal_code=postal_code, department=department,
                              committee_id=committee.id if committee else None,
                              limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    locale = current_locale()
    return render_template("events/list.html", events=events[:PAGE_SIZE], more=len(events) > PAGE_SIZE, page=page,
                           postal_code=postal_code or "", department=department or "", committee=committee,
                           when=lambda e: service.when(e, locale), categories=CATEGORY_LABELS)


@bp.get("/events/<slug>.ics")
@public()
def calendar(slug: str) -> Any:
    event = event_or_404(slug)
    return Response(ics.calendar(event, utcnow()), mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="{event.slug}.ics"'})


@bp.get("/events/<slug>")
@public()
def detail(slug: str) -> Any:
    event = event_or_404(slug)
    locale, now = current_locale(), utcnow()
    committee = db().get(Committee, event.committee_id) if event.committee_id is not None else None
    return render_template("events/detail.html", event=event, when=service.when(event, locale),
                           place=ics.place(event), is_open=service.is_open(event, now), committee=committee,
                           category=CATEGORY_LABELS.get(event.category, event.category))


@bp.get("/events/<slug>/register")
@needs_session
def register(slug: str) -> Any:
    """Open the registration workflow for this event (a registration for another event is set aside)."""
    event = event_or_404(slug)
    flow = definitions.active(db(), WORKFLOW)
    if flow is None:
        abort(404)
    if not service.is_open(event, utcnow()):
        return render_template("events/closed.html", event=event), 410, NO_STORE
    open_with(flow, {"event": event.slug, "event_name": event.name}, about="event")
    return redirect(url_for("wizard.show", workflow_id=WORKFLOW), code=303)


@bp.route("/events/registrations/<token>/cancel", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the credential (mail links); a page asks before anything changes
def cancel(token: str) -> Any:
    registration_id = registration.read_cancel(token)
    row = db().get(EventRegistration, registration_id) if registration_id is not None else None
    if row is None:
        return render_template("invitations/link_invalid.html"), 404, NO_STORE
    event = db().get(Event, row.event_id)
    assert event is not None
    if request.method == "GET":
        return render_template("events/cancel.html", event=event, row=row, token=token, done=False), 200, NO_STORE
    with transaction(sessions()) as dbs:
        registration.cancel(dbs, row.id, utcnow())
    return render_template("events/cancel.html", event=event, row=row, token=token, done=True), 200, NO_STORE
