"""A member's place at an event, from its page: taking one (a seat, or the waitlist when full) in one click,
and giving it up after a confirmation. Visitors register through the workflow (`web.events.views`)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engagement.db import transaction, utcnow
from engagement.events import mine, registration
from web.db import db, sessions
from web.events.views import NO_STORE, bp, event_or_404
from web.extensions import limiter
from web.locale import current_locale


def held(slug: str) -> tuple[Any, mine.Place | None]:
    """The event, and the signed-in member's place at it."""
    event = event_or_404(slug)
    return event, mine.at_event(db(), event, current_user.id, current_user.email)


def said(place: mine.Place) -> str:
    if place.status == "registered":
        return _("You are already registered")
    return _("You are already on the waitlist (position %(num)d)", num=place.position or 1)


@bp.post("/events/<slug>/places")
@limiter.limit("60 per hour")
def take(slug: str) -> Any:
    """One click: a seat if one is free, else a place on the waitlist; a member holding one is told so."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("events.detail", slug=slug)))
    event, place = held(slug)
    if place is not None:
        flash(said(place))
        return redirect(url_for("events.detail", slug=slug), code=303)
    try:
        with transaction(sessions()) as dbs:
            outcome = registration.place(dbs, event.id, mine.person(current_user), waitlist=True, now=utcnow(),
                                         locale=current_locale())
    except registration.Closed:
        flash(_("Registration is closed."))
    else:
        flash(_("A confirmation email is on its way, with the event for your calendar.") if outcome == "registered"
              else _("We will write to you as soon as a seat is freed for you."))  # the panel says where they stand
    return redirect(url_for("events.detail", slug=slug), code=303)


@bp.route("/events/<slug>/leave", methods=["GET", "POST"])
@login_required
def leave(slug: str) -> Any:
    """Give one's place up: a page asks, the POST (CSRF) cancels; the first on the waitlist takes the seat."""
    event, place = held(slug)
    if place is None:
        flash(_("You have no place at this event."))
        return redirect(url_for("events.detail", slug=slug), code=303)
    if request.method == "GET":
        return render_template("events/cancel.html", event=event, row=place.registration, done=False,
                               action=url_for("events.leave", slug=slug)), 200, NO_STORE
    had_seat = place.status == "registered"
    with transaction(sessions()) as dbs:
        registration.cancel(dbs, place.registration.id, utcnow())
    flash(_("Your place is given up: thank you for letting us know.") if had_seat else _("You have left the waitlist."))
    return redirect(url_for("events.detail", slug=slug), code=303)
