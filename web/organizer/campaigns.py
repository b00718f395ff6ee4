"""The organizer's campaigns: the list, a campaign's progress page (counts, per-recipient status),
its progress as JSON, and cancelling it (a scheduled one until it starts). Writing, previewing,
testing and confirming one are in ``web.organizer.compose``.

Every page checks that the organizer may write to the campaign's audience (their scopes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from engagement.accounts import scopes
from engagement.accounts.models import User
from engagement.campaigns import service
from engagement.campaigns.models import Campaign
from engagement.clock import PARIS
from engagement.db import transaction, utcnow
from engagement.geo import departments
from engagement.mail.models import STATUSES
from engagement.privacy import access
from forms.campaign import NEWSLETTER
from web.access import record
from web.auth.roles import role_required
from web.db import db, sessions
from web.organizer import bp
from web.organizer.scoping import scoped
from web.responses import NO_STORE

PAGE = 50
EVENTS = ("open", "click", "bounce", "blocked", "spam", "unsub")
CAMPAIGN_STATUSES = {"draft": _l("Draft"), "scheduled": _l("Scheduled"), "queued": _l("Queued"),
                     "sending": _l("Sending"), "done": _l("Sent"), "cancelled": _l("Cancelled")}
MESSAGE_STATUSES = {"queued": _l("Queued"), "sending": _l("Sending"), "sent": _l("Sent"), "failed": _l("Failed"),
                    "suppressed": _l("Suppressed"), "cancelled": _l("Cancelled")}
EVENT_LABELS = {"sent": _l("Delivered"), "open": _l("Opened"), "click": _l("Clicked"), "bounce": _l("Bounced"),
                "blocked": _l("Blocked"), "spam": _l("Marked as spam"), "unsub": _l("Unsubscribed")}


def local(moment: datetime | None) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if moment else ""


def audience_label(spec: str, name: str) -> str:
    """An audience for people: "The newsletter: ...", "Department: Paris (75)", "Committee: ...", "Registered for:
    ..."."""
    kind, _, value = spec.partition(":")
    if kind == "department":
        name = departments.label(value)
    labels = {"all": NEWSLETTER, "department": _l("Department: %(name)s"),
              "committee": _l("Committee: %(name)s"), "event": _l("Registered for: %(name)s")}
    return str(labels.get(kind, "%(name)s")) % {"name": name}


@bp.get("/campaigns")
@role_required("organizer")
@scoped("any")
def campaigns() -> Any:
    before = request.args.get("before", type=int)
    rows = service.listed(db(), current_user, before=before, limit=PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render_template("organizer/campaigns.html", campaigns=rows, percent=service.shares(db(), rows), local=local,
                           statuses=CAMPAIGN_STATUSES, label=audience_label, paged=bool(before),
                           next_before=rows[-1].id if more else None), 200, NO_STORE


def campaign_or_404(campaign_id: int) -> Campaign:
    """The campaign, if the organizer may write to its audience (403 otherwise, 404 when there is none)."""
    campaign = db().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    if not scopes.may_address(db(), current_user, campaign.audience):
        abort(403)
    return campaign


@bp.get("/campaigns/<int:campaign_id>")
@role_required("organizer")
@scoped("campaign")
def campaign(campaign_id: int) -> Any:
    row = campaign_or_404(campaign_id)
    if row.status == "draft":
        return redirect(url_for("organizer.campaign_preview", campaign_id=campaign_id), code=303)
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    after = max(0, request.args.get("after", 0, type=int))
    recipients = list(service.recipients(db(), row, status, after, limit=PAGE + 1))
    more = len(recipients) > PAGE
    recipients = recipients[:PAGE]
    shown = [address for message in recipients for address in message.to]
    record("campaign_recipients", f"campaign:{row.id}", access.members_by_email(db(), shown), people=len(recipients))
    author = db().get(User, row.author_id) if row.author_id else None
    return render_template(
        "organizer/campaigns_show.html", campaign=row, progress=service.progress(db(), row), author=author,
        recipients=recipients, status=status, after=after, local=local, label=audience_label,
        next_after=recipients[-1].audience_key if more else None, campaign_statuses=CAMPAIGN_STATUSES,
        message_statuses=MESSAGE_STATUSES, events=EVENTS, event_labels=EVENT_LABELS), 200, NO_STORE


@bp.get("/campaigns/<int:campaign_id>/progress.json")
@role_required("organizer")
@scoped("campaign")
def campaign_progress(campaign_id: int) -> Any:
    return jsonify(service.progress(db(), campaign_or_404(campaign_id))), 200, NO_STORE


@bp.post("/campaigns/<int:campaign_id>/cancel")
@role_required("organizer")
@scoped("campaign")
def campaign_cancel(campaign_id: int) -> Any:
    if request.form.get("confirm") != "y":
        flash(str(_l("Tick the box to confirm, then press the button again.")))
        return redirect(url_for("organizer.campaign", campaign_id=campaign_id), code=303)
    campaign_or_404(campaign_id)
    with transaction(sessions()) as dbs:
        row = dbs.get(Campaign, campaign_id, with_for_update=True)
        if row is None:
            abort(404)
        finished, waiting = row.finished_at is not None, row.status in ("draft", "scheduled")
        stopped = service.cancel(dbs, row, utcnow())
    if finished:
        flash(str(_l("This campaign had already finished: nothing changed.")))
    elif waiting:
        flash(str(_l("Campaign cancelled: it will not be sent.")))
    else:
        flash(ngettext("Campaign cancelled: %(num)d message will not be sent.",
                       "Campaign cancelled: %(num)d messages will not be sent.", stopped))
    return redirect(url_for("organizer.campaign", campaign_id=campaign_id), code=303)
