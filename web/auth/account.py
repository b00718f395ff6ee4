"""The member area: the profile, their events, waitlists, committees and invitations, and deleting the account."""

from __future__ import annotations

import threading
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, redirect, render_template, session, url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user
from wtforms import BooleanField
from wtforms.validators import DataRequired

from engagement.accounts import profile
from engagement.accounts.models import User
from engagement.accounts.signup import topics
from engagement.committees.service import followed_by
from engagement.db import settle_deletions, transaction, utcnow
from engagement.events import mine as events_mine
from engagement.events import service as events_service
from engagement.geo.countries import country_choices
from engagement.invitations.service import inviter_figures, sent_by
from engagement.privacy import consents, erasure, export
from engagement.workflow.spec import localize
from forms import address
from forms.profile import ProfileForm
from forms.text import TextForm
from web.api.views import city_options
from web.auth.consents import items as consent_items
from web.auth.views import bp
from web.db import db, release, sessions
from web.extensions import limiter
from web.locale import current_locale

NO_STORE = {"Cache-Control": "no-store"}
ERASED_KEY = "erased"  # the session key carrying an erasure's counts to its confirmation page


class DeleteForm(TextForm):
    confirm = BooleanField(_l("I understand that my account and my answers will be erased for good"),
                           validators=[DataRequired(_l("Tick the box to confirm."))])


@bp.get("/account")
@login_required
def account() -> Any:
    return _account_page(DeleteForm(), 200)


def _account_page(form: DeleteForm, status: int) -> Any:
    locale = current_locale()
    country = (current_user.address or {}).get("country")
    invited, joined = inviter_figures(db(), current_user.id)
    places = events_mine.upcoming(db(), current_user.id, current_user.email, utcnow())
    return render_template(
        "auth/account.html", user=current_user, form=form, invited=invited, joined=joined,
        registered=[p for p in places if p.status == "registered"], when=lambda e: events_service.when(e, locale),
        waitlisted=[p for p in places if p.status == "waitlisted"], invitations=sent_by(db(), current_user.id),
        committees=followed_by(db(), current_user.id), day=lambda moment: format_date(moment, "long"),
        interests=profile.interest_labels(db(), current_user, locale),
        country=dict(country_choices(locale)).get(country, country) if country else None,
        consents=consent_items(current_user),
    ), status, NO_STORE


def _topics(locale: str) -> list[tuple[str, str]]:
    return [(key, localize(label, locale)) for key, label in topics(db())]


@bp.route("/account/edit", methods=["GET", "POST"])
@login_required
def edit_profile() -> Any:
    locale = current_locale()
    initial = {"address": current_user.address or {"country": "FR"}, "interests": current_user.interests,
               "newsletter": consents.newsletter_state(db(), current_user).given}  # as campaigns see it
    form = ProfileForm(data=initial).bind(locale, city_options, _topics(locale))
    if form.validate_on_submit():
        with transaction(sessions()) as dbs:
            user = dbs.get(User, current_user.id)
            assert user is not None
            profile.update_profile(dbs, user, address=address.parts(form.address), interests=form.interests.data or [],
                                   newsletter=bool(form.newsletter.data), words=str(form.newsletter.label.text),
                                   locale=locale, now=utcnow())
        return redirect(url_for("auth.account"), code=303)
    return render_template("auth/edit_profile.html", form=form), 422 if form.errors else 200, NO_STORE




@bp.post("/account/delete")
@login_required
def delete_account() -> Any:
    form = DeleteForm()
    if not form.validate_on_submit():
        return _account_page(form, 422)
    user_id = current_user.id
    with transaction(sessions()) as dbs:
        user = dbs.get(User, user_id)
        erased = erasure.erase_user(dbs, user, utcnow()) if user is not None else None
    release()  # this request's reader: an open one keeps SQLite's log from being emptied
    engine = current_app.extensions["engagement"].engine
    threading.Thread(target=settle_deletions, args=(engine, 30.0), name="settle-deletions", daemon=True).start()
    logout_user()
    session.clear()
    if erased is not None:
        session[ERASED_KEY] = erased.as_dict()  # counts only: what the next page tells them was erased
    return redirect(url_for("auth.deleted"), code=303)


@bp.get("/account/deleted")
def deleted() -> Any:
    return render_template("auth/deleted.html", erased=session.pop(ERASED_KEY, None)), 200, NO_STORE


DATA_LIMIT = "10 per hour"  # downloads per account: each one reads everything held about the member


def _account_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else f"ip:{get_remote_address()}"


@bp.get("/account/data")
@limiter.limit(DATA_LIMIT, key_func=_account_key, deduct_when=lambda response: response.status_code == 200)
@login_required
def my_data() -> Any:
    """Everything held about the member, as a ZIP (GDPR art. 15 and 20). It takes no id: always their own."""
    now, user = utcnow(), db().get(User, current_user.id)
    assert user is not None  # the session's user was just loaded
    body = export.zip_bytes(export.collect(db(), user, now))
    name = f"engagement-mes-donnees-{now.astimezone(ZoneInfo('Europe/Paris')):%Y-%m-%d}.zip"
    return Response(body, mimetype="application/zip", headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"})
