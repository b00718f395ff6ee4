"""Writing a campaign without a way to send it by accident: compose (a draft, nothing queued), preview
it as one real recipient receives it, send oneself a test, then confirm, on a page that names the
audience and its size, by ticking a box and pressing "Send to N people" (or schedule it).

Only that confirmation queues anything, and only once (``engagement.campaigns.drafts.confirm``);
a GET never does. Every page and post checks that the organizer may write to the audience. The size
shown is exact up to ``drafts.EXACT_UP_TO`` people and estimated beyond (``drafts.size``: nothing counts
a large audience whole), and the confirmation's post counts nothing: the campaign's page shows the
recipients once the expansion has counted them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_number, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engagement.accounts import scopes
from engagement.accounts.models import User
from engagement.campaigns import audiences, drafts
from engagement.campaigns.models import Campaign
from engagement.campaigns.service import CampaignError
from engagement.db import transaction, utcnow
from engagement.events.models import Event
from engagement.geo import departments
from engagement.privacy import access
from forms.campaign import CampaignForm, ConfirmForm, TestForm
from web.access import record
from web.auth.roles import role_required
from web.db import db, sessions
from web.limits import spend
from web.organizer import bp
from web.organizer.campaigns import audience_label, campaign_or_404, local
from web.organizer.scoping import scoped
from web.responses import NO_STORE

RECENT = timedelta(days=90)  # events offered as audiences: upcoming, or ended this recently
SEND_LIMIT = "10 per hour"  # campaigns one organizer confirms (each may write to every member)
TEST_LIMIT = "5 per 10 minutes"  # test sends one organizer asks for


def _minutes(seconds: int) -> int:
    return max(1, (seconds + 59) // 60)


def _bound(form: CampaignForm) -> CampaignForm:
    """The form offering the audiences this organizer may write to, with names for people."""
    offered = audiences.offered(db(), scopes.audiences(db(), current_user, events_since=utcnow() - RECENT))
    return form.bind(offered.everyone, {
        "department": [(f"department:{code}", departments.label(code)) for code in offered.departments],
        "committee": [(f"committee:{slug}", name) for slug, name in offered.committees],
        "event": [(f"event:{e.slug}", _event_label(e)) for e in offered.events]})


def _event_label(event: Event) -> str:
    day = event.begins_at.astimezone(ZoneInfo(event.timezone)).strftime("%d/%m/%Y")
    cancelled = f" ({_l('cancelled')})" if event.status == "cancelled" else ""
    return f"{event.name} · {day}{cancelled}"


def _draft(campaign_id: int) -> Campaign | None:
    """The draft (scope checked); None when it is no longer one (the caller sends to its page)."""
    campaign = campaign_or_404(campaign_id)
    return campaign if campaign.status == "draft" else None


def _to_campaign(campaign_id: int) -> Any:
    return redirect(url_for("organizer.campaign", campaign_id=campaign_id), code=303)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@role_required("organizer")
@scoped("any")
def campaign_new() -> Any:
    full_name = f"{current_user.first_name} {current_user.last_name}".strip()
    form = _bound(CampaignForm(data={"sender_name": full_name}))
    if form.validate_on_submit():
        return _save(form, None)
    return _form_page(form, None, 422 if form.is_submitted() else 200)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@role_required("organizer")
@scoped("campaign")
def campaign_edit(campaign_id: int) -> Any:
    if (draft := _draft(campaign_id)) is None:
        return _to_campaign(campaign_id)
    form = _bound(CampaignForm(obj=draft))
    if form.validate_on_submit():
        return _save(form, draft)
    return _form_page(form, draft, 422 if form.is_submitted() else 200)


def _form_page(form: CampaignForm, draft: Campaign | None, status: int) -> Any:
    return render_template("organizer/campaigns_new.html", form=form, draft=draft), status, NO_STORE


def _save(form: CampaignForm, draft: Campaign | None) -> Any:
    """Keep the draft (nothing is queued) and show its preview."""
    if not scopes.may_address(db(), current_user, form.audience.data or ""):
        abort(403)
    try:
        with transaction(sessions()) as dbs:
            row = dbs.get(Campaign, draft.id, with_for_update=True) if draft is not None else None
            saved = drafts.save(dbs, row, audience=form.audience.data or "", subject=form.subject.data or "",
                                body=form.body.data or "", sender_name=form.sender_name.data, author=current_user,
                                now=utcnow())
            saved_id = saved.id
    except CampaignError as error:
        if error.field == "audience" and draft is not None and draft.status != "draft":
            return _to_campaign(draft.id)
        form.report(error)
        return _form_page(form, draft, 422)
    return redirect(url_for("organizer.campaign_preview", campaign_id=saved_id), code=303)


def _previewed(draft: Campaign) -> drafts.Preview | None:
    try:
        return drafts.preview(db(), draft)
    except audiences.AudienceError:
        return None


@bp.get("/campaigns/<int:campaign_id>/preview")
@role_required("organizer")
@scoped("campaign")
def campaign_preview(campaign_id: int) -> Any:
    if (draft := _draft(campaign_id)) is None:
        return _to_campaign(campaign_id)
    preview = _previewed(draft)
    if preview is not None and preview.recipient:  # one real recipient's address and name, merged in
        record("campaign_preview", f"campaign:{draft.id}", access.members_by_email(db(), [preview.recipient]),
               people=1)
    return render_template("organizer/campaigns_preview.html", campaign=draft, preview=preview,
                           test_form=TestForm(), label=audience_label, local=local, sized=size_text), 200, NO_STORE


@bp.post("/campaigns/<int:campaign_id>/test")
@role_required("organizer")
@scoped("campaign")
def campaign_test(campaign_id: int) -> Any:
    """Mail the draft to the organizer's own address only; nothing else is queued."""
    if (draft := _draft(campaign_id)) is None:
        return _to_campaign(campaign_id)
    if not TestForm().validate_on_submit():
        abort(400)
    if (wait := spend(TEST_LIMIT, "campaign.test", per_client=False)) is not None:
        flash(ngettext("You have sent yourself many tests: wait %(num)d minute before the next one.",
                       "You have sent yourself many tests: wait %(num)d minutes before the next one.", _minutes(wait)))
        return redirect(url_for("organizer.campaign_preview", campaign_id=draft.id), code=303)
    with transaction(sessions()) as dbs:
        row = dbs.get(Campaign, draft.id, with_for_update=True)
        author = dbs.get(User, current_user.id)
        if row is None or row.status != "draft" or author is None:
            return _to_campaign(campaign_id)
        sent = drafts.send_test(dbs, row, author, utcnow())
    if sent is None:  # an account whose address no mail can reach (a reserved domain)
        flash(str(_l("Your address, %(email)s, cannot receive mail: no test was sent."))
              % {"email": current_user.email})
        return redirect(url_for("organizer.campaign_preview", campaign_id=campaign_id), code=303)
    flash(str(_l("A test was sent to your address, %(email)s, and to nobody else.")) % {"email": current_user.email})
    return redirect(url_for("organizer.campaign_preview", campaign_id=campaign_id), code=303)


@bp.route("/campaigns/<int:campaign_id>/confirm", methods=["GET", "POST"])
@role_required("organizer")
@scoped("campaign")
def campaign_confirm(campaign_id: int) -> Any:
    """The page that names the audience and its size; only its deliberate post queues the campaign (without
    counting the audience: the expansion does)."""
    if (draft := _draft(campaign_id)) is None:
        return _to_campaign(campaign_id)
    if request.method == "POST":  # the audience confirmed comes from the page only: none posted is a change
        return _confirmed(draft, ConfirmForm())
    if (preview := _previewed(draft)) is None:
        return _audience_gone(campaign_id)
    return _confirm_page(draft, preview, ConfirmForm(data={"audience": draft.audience}), 200)


def _audience_gone(campaign_id: int) -> Any:
    flash(str(_l("This audience cannot be written to any more: choose another.")))
    return redirect(url_for("organizer.campaign_edit", campaign_id=campaign_id), code=303)


def _confirmed(draft: Campaign, form: ConfirmForm) -> Any:
    """The post: checked, rate limited, then the draft queued (or scheduled) without counting its audience."""
    valid, later = form.validate(), form.schedule.data
    if valid and later and form.send_at.data is None:
        form.send_at.errors = [str(_l("Enter the date and time it should leave."))]
    elif valid and later and (problem := drafts.schedule_error(form.moment(), utcnow())):
        form.send_at.errors = [str(SCHEDULE_PROBLEMS[problem])]
    if not form.confirm.data:
        form.confirm.errors = [str(_l("Tick the box to confirm the number of recipients."))]
    if not valid or form.errors:
        return _page_again(draft, form, 422)
    if (wait := spend(SEND_LIMIT, "campaign.send", per_client=False)) is not None:
        flash(ngettext("You have queued many campaigns in the last hour: wait %(num)d minute before sending "
                       "another. Nothing you wrote is lost.",
                       "You have queued many campaigns in the last hour: wait %(num)d minutes before sending "
                       "another. Nothing you wrote is lost.", _minutes(wait)))
        return _page_again(draft, form, 429)
    try:
        with transaction(sessions()) as dbs:
            row = dbs.get(Campaign, draft.id, with_for_update=True)
            done = drafts.confirm(dbs, row, audience=form.audience.data or "", now=utcnow(),
                                  send_at=form.moment() if later else None) if row is not None else None
    except audiences.AudienceError:
        return _audience_gone(draft.id)
    return _after(draft, form, done)


def _page_again(draft: Campaign, form: ConfirmForm, status: int) -> Any:
    """The confirmation page once more (a refused post), with the draft's audience as it is now."""
    if (preview := _previewed(draft)) is None:
        return _audience_gone(draft.id)
    if form.audience.data != draft.audience:  # a box ticked for another audience is not ticked for this one
        form.audience.data, form.confirm.data = draft.audience, False
    return _confirm_page(draft, preview, form, status)


SCHEDULE_PROBLEMS = {"past": _l("Choose a time in the future."),
                     "far": _l("Choose a time within a year.")}


def _after(draft: Campaign, form: ConfirmForm, done: drafts.Confirmation | None) -> Any:
    if done is None or done.outcome == "already":
        flash(str(_l("This campaign was already confirmed: it was not queued again.")))
    elif done.outcome in ("changed", "empty"):
        with sessions()() as fresh:  # the draft as another tab left it, not as this request first read it
            row = fresh.get(Campaign, draft.id)
            if row is None or row.status != "draft":
                return _to_campaign(draft.id)
            fresh.expunge(row)
        if done.outcome == "changed":
            flash(str(_l("The audience of this campaign was changed since this page was shown: check it and "
                         "confirm again.")))
        return _page_again(row, form, 409 if done.outcome == "changed" else 422)
    elif done.outcome == "scheduled":
        flash(str(_l("Campaign scheduled for %(when)s: its recipients are counted when it leaves."))
              % {"when": local(form.moment())})
    else:
        flash(str(_l("Campaign queued: its recipients are being counted, this page shows them as they are "
                     "written.")))
    return _to_campaign(draft.id)


def size_text(size: drafts.Size) -> str:
    """An audience's size for people: "30 people", "about 45,000 people", "more than 1,000 people"."""
    if size.kind == "exact":
        return ngettext("%(num)d person", "%(num)d people", size.count)
    if size.kind == "about":
        return str(_l("about %(count)s people")) % {"count": format_number(size.count)}
    return str(_l("more than %(count)s people")) % {"count": format_number(size.count)}


def _confirm_page(draft: Campaign, preview: drafts.Preview, form: ConfirmForm, status: int) -> Any:
    return render_template("organizer/campaigns_confirm.html", campaign=draft, preview=preview, form=form,
                           label=audience_label, sized=size_text), status, NO_STORE
