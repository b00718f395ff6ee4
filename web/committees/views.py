"""Public committee pages: the list by department, a committee, following it, and proposing a new one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from engagement.committees import service
from engagement.committees.models import Committee
from engagement.db import transaction, utcnow
from engagement.events.service import upcoming
from engagement.events.wording import when
from engagement.geo import departments
from engagement.geo.postal import city_options
from forms.committee import CommitteeForm
from forms.messages import DEFAULT_MESSAGES
from web.db import db, sessions
from web.extensions import limiter
from web.locale import current_locale
from web.public import public
from web.responses import NO_STORE

bp = Blueprint("committees", __name__)
STAFF = ("organizer", "admin")
REFUSALS = {
    "last_host": _l("You are the last host of this committee, and a committee always keeps one: ask an "
                    "organizer to name another host before you leave."),
    "not_member": _l("You do not follow this committee."),
    "not_approved": _l("This committee is not open to followers yet."),
}


@bp.get("/committees")
@public(args=("department",), tags=("committees",))
def listing() -> Any:
    department = (request.args.get("department") or "").strip().upper()[:3]
    code = departments.parse(department)
    invalid = bool(department) and code is None
    committees = [] if invalid else service.approved(db(), department=code)
    counts = service.followers_counts(db(), [c.id for c in committees])
    return render_template("committees/list.html", committees=committees, counts=counts, department=department,
                           invalid=invalid)


@bp.get("/committees/<slug>")
@public(tags=("events", "committee:{slug}"))
def detail(slug: str) -> Any:
    committee = _visible_or_404(db(), slug)
    mine = service.membership(db(), committee, current_user.id) if current_user.is_authenticated else None
    locale = current_locale()
    events = upcoming(db(), utcnow(), committee_id=committee.id, limit=20)
    return render_template("committees/detail.html", committee=committee, membership=mine,
                           followers=service.followers_count(db(), committee), events=events,
                           when=lambda event: when(event, locale))


def _visible_or_404(session: Session, slug: str) -> Committee:
    """An approved committee; a pending or refused one only for its hosts and the organizers."""
    committee = service.by_slug(session, slug)
    if committee is None or not (committee.status == "approved" or _may_review(session, committee)):
        abort(404)
    return committee


def _may_review(session: Session, committee: Committee) -> bool:
    if not current_user.is_authenticated:
        return False
    if current_user.role in STAFF:
        return True
    found = service.membership(session, committee, current_user.id)
    return found is not None and found.role == "host"


@bp.post("/committees/<slug>/follow")
def follow(slug: str) -> Any:
    if not current_user.is_authenticated:
        return _to_login(slug)
    try:
        with transaction(sessions()) as dbs:
            committee = _visible_or_404(dbs, slug)
            service.follow(dbs, committee, current_user.id, utcnow())
            name = committee.name
    except service.CommitteeError as refusal:
        flash(str(REFUSALS[refusal.code]))
    else:
        flash(_("You follow %(name)s: you will hear about its events.", name=name))
    return redirect(url_for("committees.detail", slug=slug), code=303)


@bp.post("/committees/<slug>/unfollow")
def unfollow(slug: str) -> Any:
    if not current_user.is_authenticated:
        return _to_login(slug)
    try:
        with transaction(sessions()) as dbs:
            committee = _visible_or_404(dbs, slug)
            service.leave(dbs, committee, current_user.id)
            name = committee.name
    except service.CommitteeError as refusal:
        flash(str(REFUSALS[refusal.code]))
    else:
        flash(_("You no longer follow %(name)s.", name=name))
    return redirect(url_for("committees.detail", slug=slug), code=303)


def _to_login(slug: str) -> Any:
    """After logging in, the visitor comes back to the committee's page (the POST URL has no page)."""
    return redirect(url_for("auth.login", next=url_for("committees.detail", slug=slug)))


@bp.route("/committees/new", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@login_required
def propose() -> Any:
    form = CommitteeForm(data={"address": {"country": "FR"}}).bind(current_locale(), city_options)
    if form.validate_on_submit():
        try:
            with transaction(sessions()) as dbs:
                committee = service.propose(dbs, name=form.name.data or "", description=form.description.data or "",
                                            address=form.address_parts(), creator_id=current_user.id, now=utcnow())
                slug = committee.slug
        except service.CommitteeError:
            form.name.errors = [*form.name.errors, str(DEFAULT_MESSAGES["invalid"])]
        else:
            flash(_("Thank you: your committee is proposed. An organizer will review it before it is listed; "
                         "meanwhile only you see its page."))
            return redirect(url_for("committees.detail", slug=slug), code=303)
    status = 422 if form.errors else 200
    return render_template("committees/new.html", form=form), status, NO_STORE
