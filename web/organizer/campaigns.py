"""The organizer's campaigns: the list, writing one (with a preview of who gets it and how it reads),
its progress page (counts, per-recipient status), its progress as JSON, and cancelling it.

Sending only queues the campaign (one row and one outbox row, whatever the audience's size); the
campaigns queue expands and sends it in the background (see ``engagement.campaigns.service``).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.campaigns import audiences, lists, service
from engagement.campaigns.service import CampaignError
from engagement.committees import service as committees
from engagement.db import transaction, utcnow
from engagement.events.models import Event
from engagement.geo import departments
from engagement.mail import service as mail
from engagement.mail.models import FINAL, STATUSES, Campaign, MailMessage
from forms.campaign import CampaignForm
from web.auth.roles import role_required
from web.db import db, sessions
from web.limits import spend
from web.organizer.views import NO_STORE, bp

PAGE = 50
SEND_LIMIT = "10 per hour"  # campaigns one organizer queues (each may write to every member)
RECENT = timedelta(days=90)  # events offered as audiences: upcoming, or ended this recently
ZONE = ZoneInfo("Europe/Paris")
EVENTS = ("open", "click", "bounce", "blocked", "spam", "unsub")
CAMPAIGN_STATUSES = {"queued": _l("Queued"), "sending": _l("Sending"), "done": _l("Sent"),
                     "cancelled": _l("Cancelled")}
MESSAGE_STATUSES = {"queued": _l("Queued"), "sending": _l("Sending"), "sent": _l("Sent"), "failed": _l("Failed"),
                    "suppressed": _l("Suppressed"), "cancelled": _l("Cancelled")}
EVENT_LABELS = {"sent": _l("Delivered"), "open": _l("Opened"), "click": _l("Clicked"), "bounce": _l("Bounced"),
                "blocked": _l("Blocked"), "spam": _l("Marked as spam"), "unsub": _l("Unsubscribed")}
PREVIEW_LINK = "/unsubscribe/…"  # each recipient gets their own
SENT_DRAFTS = "campaign_drafts"  # session key: draft -> the campaign it queued


def local(moment: datetime | None) -> str:
    return moment.astimezone(ZONE).strftime("%d/%m/%Y %H:%M") if moment else ""


def audience_label(spec: str, name: str) -> str:
    """An audience for people: "Every member", "Department: Paris (75)", "Committee: ...", "Registered for: ..."."""
    kind = spec.partition(":")[0]
    if kind == "department":
        name = departments.label(name)
    labels = {"all": _l("Every member"), "department": _l("Department: %(name)s"),
              "committee": _l("Committee: %(name)s"), "event": _l("Registered for: %(name)s")}
    return str(labels.get(kind, "%(name)s")) % {"name": name}


def _percent(campaigns: list[Campaign]) -> dict[int, int]:
    """Each campaign's share of final messages, in one query for those still running."""
    running = [c.id for c in campaigns if c.finished_at is None]
    final = dict(db().execute(select(MailMessage.campaign_id, func.count()).where(
        MailMessage.campaign_id.in_(running), MailMessage.status.in_(FINAL),
    ).group_by(MailMessage.campaign_id)).all()) if running else {}
    shares: dict[int, int] = {}
    for c in campaigns:
        total = c.expanded if c.expanded_at is not None else max(c.recipients, c.expanded)
        shares[c.id] = 100 if c.finished_at is not None else (final.get(c.id, 0) * 100 // total if total else 0)
    return shares


@bp.get("/campaigns")
@role_required("organizer")
def campaigns() -> Any:
    before = request.args.get("before", type=int)
    query = select(Campaign).order_by(Campaign.id.desc()).limit(PAGE + 1)
    if before:
        query = query.where(Campaign.id < before)
    rows = list(db().scalars(query))
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render_template("organizer/campaigns.html", campaigns=rows, percent=_percent(rows), local=local,
                           statuses=CAMPAIGN_STATUSES, label=audience_label, paged=bool(before),
                           next_before=rows[-1].id if more else None), 200, NO_STORE


def _bound(form: CampaignForm) -> CampaignForm:
    """The form with this request's choices: approved committees, upcoming and recent events."""
    offered = [(c.slug, c.name) for c in committees.approved(db(), limit=1000)]
    events = db().scalars(select(Event).where(Event.ends_at > utcnow() - RECENT)
                          .order_by(Event.begins_at.desc()).limit(200))
    return form.bind(offered, [(e.slug, _event_label(e)) for e in events])


def _event_label(event: Event) -> str:
    day = event.begins_at.astimezone(ZoneInfo(event.timezone)).strftime("%d/%m/%Y")
    cancelled = f" ({_l('cancelled')})" if event.status == "cancelled" else ""
    return f"{event.name} · {day}{cancelled}"


def _estimate(session: Session, target: audiences.Audience) -> int:
    """The audience's size: from its stored audience list when there is one, else counted."""
    found = lists.estimate(session, target.spec)
    return found if found is not None else audiences.count(session, target)


def _preview(form: CampaignForm) -> dict[str, Any] | None:
    """Who gets the message and how it arrives (the footer with a stand-in for each one's own link);
    None while the audience is not validly chosen."""
    if any(form[name].errors for name in ("audience", "committee", "department", "event")):
        return None
    try:
        target = audiences.parse(db(), form.spec())
    except audiences.AudienceError:
        form.report(CampaignError("audience", "gone"))
        return None
    body = (form.body.data or "").replace("\r\n", "\n").strip()
    platform = parseaddr(mail.sender())[0] or "Engagement"
    text = body + mail.CAMPAIGN_FOOTER.format(platform=platform, link=mail.absolute(PREVIEW_LINK))
    return {"count": _estimate(db(), target), "audience": audience_label(target.spec, target.label),
            "sender": mail.sender(form.sender_name.data), "subject": " ".join((form.subject.data or "").split()),
            "text": text if body else ""}


@bp.route("/campaigns/new", methods=["GET", "POST"])
@role_required("organizer")
def campaign_new() -> Any:
    full_name = f"{current_user.first_name} {current_user.last_name}".strip()
    form = _bound(CampaignForm(data={"sender_name": full_name, "draft": secrets.token_urlsafe(16)}))
    preview, limited = None, False
    if form.is_submitted():
        if form.validate() and request.form.get("action") == "send":
            if (queued := session.get(SENT_DRAFTS, {}).get(form.draft.data or "")) is not None:
                flash(str(_l("This campaign was already queued: it was not queued again.")))
                return redirect(url_for("organizer.campaign", campaign_id=queued), code=303)
            wait = spend(SEND_LIMIT, "campaign.send", per_client=False)
            if wait is None:
                return _send(form)
            limited = True
            flash(ngettext("You have queued many campaigns in the last hour: wait %(num)d minute before sending "
                           "another. Nothing you wrote is lost.",
                           "You have queued many campaigns in the last hour: wait %(num)d minutes before sending "
                           "another. Nothing you wrote is lost.", max(1, (wait + 59) // 60)))
        preview = _preview(form)
    return _form_page(form, preview, 429 if limited else 422 if form.errors else 200)


def _form_page(form: CampaignForm, preview: dict[str, Any] | None, status: int) -> Any:
    return render_template("organizer/campaigns_new.html", form=form, preview=preview), status, NO_STORE


def _send(form: CampaignForm) -> Any:
    try:
        with transaction(sessions()) as dbs:
            campaign = service.create(dbs, audience=form.spec(), subject=form.subject.data or "",
                                      body=form.body.data or "", author=current_user,
                                      sender_name=form.sender_name.data or None, now=utcnow())
            campaign_id, recipients = campaign.id, campaign.recipients
    except CampaignError as error:
        form.report(error)
        return _form_page(form, None, 422)
    if form.draft.data:  # the last few drafts sent: the back button and a second click find them
        session[SENT_DRAFTS] = {**dict(list(session.get(SENT_DRAFTS, {}).items())[-9:]), form.draft.data: campaign_id}
    flash(ngettext("Campaign queued for %(num)d recipient.", "Campaign queued for %(num)d recipients.", recipients))
    return redirect(url_for("organizer.campaign", campaign_id=campaign_id), code=303)


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


@bp.get("/campaigns/<int:campaign_id>")
@role_required("organizer")
def campaign(campaign_id: int) -> Any:
    row = _campaign_or_404(campaign_id)
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    after = max(0, request.args.get("after", 0, type=int))
    recipients = list(service.recipients(db(), row, status, after, limit=PAGE + 1))
    more = len(recipients) > PAGE
    recipients = recipients[:PAGE]
    author = db().get(User, row.author_id) if row.author_id else None
    return render_template(
        "organizer/campaigns_show.html", campaign=row, progress=service.progress(db(), row), author=author,
        recipients=recipients, status=status, after=after, local=local, label=audience_label,
        next_after=recipients[-1].audience_key if more else None, campaign_statuses=CAMPAIGN_STATUSES,
        message_statuses=MESSAGE_STATUSES, events=EVENTS, event_labels=EVENT_LABELS), 200, NO_STORE


@bp.get("/campaigns/<int:campaign_id>/progress.json")
@role_required("organizer")
def campaign_progress(campaign_id: int) -> Any:
    return jsonify(service.progress(db(), _campaign_or_404(campaign_id))), 200, NO_STORE


@bp.post("/campaigns/<int:campaign_id>/cancel")
@role_required("organizer")
def campaign_cancel(campaign_id: int) -> Any:
    if request.form.get("confirm") != "y":
        flash(str(_l("Tick the box to confirm, then press the button again.")))
        return redirect(url_for("organizer.campaign", campaign_id=campaign_id), code=303)
    with transaction(sessions()) as dbs:
        row = dbs.get(Campaign, campaign_id, with_for_update=True)
        if row is None:
            abort(404)
        finished = row.finished_at is not None
        stopped = service.cancel(dbs, row, utcnow())
    if finished:
        flash(str(_l("This campaign had already finished: nothing changed.")))
    else:
        flash(ngettext("Campaign cancelled: %(num)d message will not be sent.",
                       "Campaign cancelled: %(num)d messages will not be sent.", stopped))
    return redirect(url_for("organizer.campaign", campaign_id=campaign_id), code=303)
