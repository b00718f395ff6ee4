"""The organizer's events: the list, creating and editing, participants (page and CSV), cancelling, writing."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from engagement.accounts import scopes
from engagement.committees.models import Committee
from engagement.db import transaction, utcnow
from engagement.events import service, wording
from engagement.events.models import Event, EventRegistration
from engagement.events.service import EventError
from engagement.geo.communes import department_of
from engagement.geo.postal import city_options
from engagement.privacy import access
from forms.events import CATEGORY_LABELS, ConfirmForm, EventForm, ParticipantsMailForm, initial
from web.access import record
from web.auth.roles import role_required
from web.db import db, sessions
from web.events.views import event_or_404
from web.extensions import limiter
from web.locale import current_locale
from web.organizer import bp, export
from web.organizer.covers import CoverGone, apply_cover, bind_cover, report_gone
from web.organizer.scoping import reach, scoped
from web.responses import NO_STORE

LIST_LIMIT = 200  # per section; older events stay reachable by their address
STATUSES = {"scheduled": _l("Scheduled"), "cancelled": _l("Cancelled")}
OUT_OF_SCOPE = _l("Choose one of the committees you run, or an address in your department.")
MAIL_LIMIT = "10 per hour"  # messages (not mails) an organizer sends; each one fans out to every participant


@bp.get("/events")
@role_required("organizer")
@scoped("any")
def events() -> Any:
    now, query = utcnow(), select(Event).where(scopes.event_clause(reach()))
    upcoming = list(db().scalars(query.where(Event.ends_at > now)
                                 .order_by(Event.begins_at, Event.id).limit(LIST_LIMIT)))
    past = list(db().scalars(query.where(Event.ends_at <= now)
                             .order_by(Event.begins_at.desc(), Event.id.desc()).limit(LIST_LIMIT)))
    return render_template("organizer/events/list.html", upcoming=upcoming, past=past,
                           waitlisted=_waitlist_counts([e.id for e in upcoming + past]), statuses=STATUSES,
                           when=_when), 200, NO_STORE


def _when(event: Event) -> str:
    return wording.when(event, current_locale())


def _waitlist_counts(event_ids: list[int]) -> dict[int, int]:
    if not event_ids:
        return {}
    rows = db().execute(select(EventRegistration.event_id, func.count()).where(
        EventRegistration.event_id.in_(event_ids), EventRegistration.status == "waitlisted",
    ).group_by(EventRegistration.event_id))
    return {event_id: int(n) for event_id, n in rows}


def _bound(form: EventForm, event: Event | None = None) -> EventForm:
    """The form with this request's choices: approved committees in scope (and the event's own, whatever its
    state), the media library for the cover."""
    offered = [(c.id, c.name) for c in scopes.committees_in(db(), reach(), limit=1000)]
    current_committee = event.committee_id if event is not None else None
    if current_committee is not None and current_committee not in {i for i, _name in offered}:
        row = db().get(Committee, current_committee)
        if row is not None:
            offered.append((row.id, row.name))
    bind_cover(form.cover, event.cover_media_id if event is not None else None)
    return form.bind(current_locale(), city_options, offered)


@bp.route("/events/new", methods=["GET", "POST"])
@role_required("organizer")
@scoped("any")
def event_new() -> Any:
    form = _bound(EventForm())
    if form.validate_on_submit() and _in_scope(form):
        try:
            with transaction(sessions()) as dbs:
                apply_cover(dbs, service.create(dbs, form.to_input(), current_user.id, utcnow()), form.cover.media_id)
        except EventError as error:
            form.report(error)
        except CoverGone:
            report_gone(form.cover)
        else:
            flash(str(_l("Event created.")))
            return redirect(url_for("organizer.events"), code=303)
    return _form_page(form, None)


@bp.route("/events/<slug>/edit", methods=["GET", "POST"])
@role_required("organizer")
@scoped("event")
def event_edit(slug: str) -> Any:
    event = event_or_404(slug)
    if event.status == "cancelled":
        flash(str(_l("A cancelled event can no longer be edited.")))
        return redirect(url_for("organizer.events"), code=303)
    form = _bound(EventForm(data=initial(event)), event)
    if form.validate_on_submit() and _in_scope(form):
        try:
            with transaction(sessions()) as dbs:
                before = _waitlisted(dbs, event.id)
                saved = service.update(dbs, event, form.to_input(), utcnow(), current_locale())
                apply_cover(dbs, saved, form.cover.media_id)
                promoted = before - _waitlisted(dbs, event.id)
        except EventError as error:
            form.report(error)
        except CoverGone:
            report_gone(form.cover)
        else:
            flash(str(_l("Event saved.")))
            if promoted:
                flash(ngettext("%(num)d person moved from the waitlist to a seat and was told by mail.",
                               "%(num)d people moved from the waitlist to a seat and were told by mail.", promoted))
            return redirect(url_for("organizer.events"), code=303)
    return _form_page(form, event)


def _in_scope(form: EventForm) -> bool:
    """Whether the event as typed stays in the organizer's scope (one of their committees, or held in
    their department); if not, the committee input says so."""
    data = form.to_input()
    if scopes.covers_place(db(), reach(), data.committee_id, department_of(data.address)):
        return True
    form.committee.errors = [*form.committee.errors, str(OUT_OF_SCOPE)]
    return False


def _waitlisted(session: Any, event_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(EventRegistration).where(
        EventRegistration.event_id == event_id, EventRegistration.status == "waitlisted")) or 0)


def _form_page(form: EventForm, event: Event | None) -> Any:
    page = render_template("organizer/events/form.html", form=form, event=event)
    return page, 422 if form.errors else 200, NO_STORE


@bp.get("/events/<slug>/participants")
@role_required("organizer")
@scoped("event")
def event_participants(slug: str) -> Any:
    event = event_or_404(slug)
    people = service.participants(db(), event)
    _logged("participants", event, people)
    registered = [p for p in people if p.status == "registered"]
    waitlisted = [p for p in people if p.status == "waitlisted"]
    return render_template("organizer/events/participants.html", event=event, registered=registered,
                           waitlisted=waitlisted, when=_when(event), local=export.local_time,
                           category=CATEGORY_LABELS.get(event.category, event.category)), 200, NO_STORE


@bp.get("/events/<slug>/participants.csv")
@role_required("organizer")
@scoped("event")
def event_participants_csv(slug: str) -> Any:
    event = event_or_404(slug)
    people = service.participants(db(), event)
    _logged("participants_csv", event, people)
    content = export.participants_csv(event, people)
    return Response(content, mimetype="text/csv", headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="{event.slug}-participants.csv"',
        "X-Content-Type-Options": "nosniff"})


def _logged(action: str, event: Event, people: list[EventRegistration]) -> None:
    """The access log: these people's data is shown (a visitor's registration under a member's address
    names the member too)."""
    by_address = access.members_by_email(db(), [p.email for p in people if p.user_id is None])
    record(action, f"event:{event.slug}", [*(p.user_id for p in people), *by_address], people=len(people))


@bp.route("/events/<slug>/cancel", methods=["GET", "POST"])
@role_required("organizer")
@scoped("event")
def event_cancel(slug: str) -> Any:
    event = event_or_404(slug)
    form = ConfirmForm()
    if form.validate_on_submit():
        if event.status == "scheduled" and event.ends_at <= utcnow():
            flash(str(_l("This event is over: it can no longer be cancelled.")))
            return redirect(url_for("organizer.events"), code=303)
        was_cancelled = event.status == "cancelled"  # as read: a simultaneous cancel still mails nobody twice
        with transaction(sessions()) as dbs:
            written = service.cancel(dbs, event, utcnow())
        if was_cancelled:
            flash(str(_l("This event was already cancelled: nobody was written to again.")))
        else:
            flash(ngettext("Event cancelled: %(num)d person was told by mail.",
                           "Event cancelled: %(num)d people were told by mail.", written))
        return redirect(url_for("organizer.events"), code=303)
    people = service.participants(db(), event)
    return render_template("organizer/events/cancel.html", event=event, form=form, when=_when(event),
                           count=len(people), is_over=event.ends_at <= utcnow()), 200, NO_STORE


def _organizer_key() -> str:
    """Count per account (an organizer may work from several addresses, or share one with others)."""
    return f"user:{current_user.id}" if current_user.is_authenticated else "anonymous"


@bp.route("/events/<slug>/email", methods=["GET", "POST"])
@limiter.limit(MAIL_LIMIT, key_func=_organizer_key, methods=["POST"], deduct_when=lambda r: r.status_code == 303)
@role_required("organizer")
@scoped("event")
def event_email(slug: str) -> Any:
    event = event_or_404(slug)
    form = ParticipantsMailForm()
    if form.validate_on_submit():
        with transaction(sessions()) as dbs:
            written = service.write_to_participants(
                dbs, event, subject=(form.subject.data or "").strip(), body=form.body.data or "",
                include_waitlist=bool(form.include_waitlist.data), reply_to=current_user.email,
                locale=current_locale())
        flash(ngettext("Message sent to %(num)d person.", "Message sent to %(num)d people.", written))
        return redirect(url_for("organizer.event_participants", slug=event.slug), code=303)
    people = service.participants(db(), event)
    counts = {"registered": sum(p.status == "registered" for p in people),
              "waitlisted": sum(p.status == "waitlisted" for p in people)}
    page = render_template("organizer/events/email.html", event=event, form=form, when=_when(event), **counts)
    return page, 422 if form.errors else 200, NO_STORE
