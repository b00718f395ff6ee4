"""Public event pages: the list with filters, an event, its .ics, registering, and cancelling a place."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engagement.committees.service import by_slug as committee_by_slug
from engagement.db import transaction, utcnow
from engagement.events import ics, mine, periods, registration, service, wording
from engagement.events.models import Event, EventRegistration, is_open
from engagement.workflow import definitions
from forms.events import CATEGORY_LABELS
from web.db import db, sessions
from web.events import finder
from web.extensions import csrf
from web.locale import current_locale
from web.public import public
from web.resilience import needs_session
from web.responses import NO_STORE
from web.wizard.views import open_with

bp = Blueprint("events", __name__)
WORKFLOW = "event_registration"


def event_or_404(slug: str) -> Event:
    event = service.by_slug(db(), slug)
    if event is None:
        abort(404)
    return event


@bp.get("/events")
@public(args=finder.ARGS, tags=("events",))
def listing() -> Any:
    """Upcoming events: near a postal code (``near``, ``km``), nearest first, online ones apart; or soonest first."""
    args = request.args
    committee = committee_by_slug(db(), args["committee"]) if args.get("committee") else None
    if args.get("committee") and (committee is None or committee.status != "approved"):
        abort(404)
    now, locale = utcnow(), current_locale()
    search = finder.asked(args, periods.today(now))
    found = finder.find(db(), search, now, committee.id if committee else None)
    return render_template("events/list.html", search=search, found=found, committee=committee,
                           when=lambda e: wording.when(e, locale), distance=lambda km: finder.distance(km, locale),
                           categories=CATEGORY_LABELS, periods=finder.PERIOD_LABELS, km_choices=finder.KM_CHOICES)


@bp.get("/events/<slug>.ics")
@public(tags=("event:{slug}",))
def calendar(slug: str) -> Any:
    event = event_or_404(slug)
    return Response(ics.calendar(event, utcnow()), mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="{event.slug}.ics"'})


@bp.get("/events/<slug>")
@public(tags=("event:{slug}",))
def detail(slug: str) -> Any:
    found = service.with_committee(db(), slug)
    if found is None:
        abort(404)
    event, committee = found
    locale, now = current_locale(), utcnow()
    mine_ = mine.at_event(db(), event, current_user.id, current_user.email) if current_user.is_authenticated \
        else None  # a member's page is private (web.public): never the anonymous copy
    return render_template("events/detail.html", event=event, when=wording.when(event, locale),
                           place=ics.place(event), is_open=is_open(event, now), committee=committee,
                           category=CATEGORY_LABELS.get(event.category, event.category), mine=mine_)


@bp.get("/events/<slug>/register")
@needs_session
def register(slug: str) -> Any:
    """Open the registration workflow for this event (a registration for another event is set aside)."""
    event = event_or_404(slug)
    flow = definitions.active(db(), WORKFLOW)
    if flow is None:
        abort(404)
    if not is_open(event, utcnow()):
        return render_template("events/closed.html", event=event), 410, NO_STORE
    if current_user.is_authenticated and mine.at_event(db(), event, current_user.id, current_user.email):
        flash(_("You are already registered"))  # the event's page says where they stand, and offers to leave
        return redirect(url_for("events.detail", slug=slug), code=303)
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
