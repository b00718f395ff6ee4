"""The admin area's organizer scopes: what one organizer manages, granting and revoking (each logged)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from engagement.accounts import scopes
from engagement.accounts.models import ScopeChange, User
from engagement.committees.models import Committee, CommitteeMembership
from engagement.db import transaction, utcnow
from forms.admin import SCOPE_LABELS, RevokeScopeForm, ScopeForm
from web.access import record
from web.admin.views import NO_STORE, bp
from web.auth.roles import admin_required
from web.db import db, sessions
from web.explorer.present import local

REFUSALS = {
    "unknown_scope": _l("No such department or committee: give a department's code (75, 2A, 971) or a "
                        "committee's address name."),
    "not_organizer": _l("Only an organizer is given a scope: make the account an organizer first."),
}


def _user_or_404(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _page(user: User, form: ScopeForm, status: int = 200) -> Any:
    hosted = db().scalars(select(Committee).join(CommitteeMembership, CommitteeMembership.committee_id == Committee.id)
                          .where(CommitteeMembership.user_id == user.id, CommitteeMembership.role == "host")
                          .order_by(Committee.name))
    changes = db().scalars(select(ScopeChange).where(ScopeChange.user_id == user.id)
                           .order_by(ScopeChange.id.desc()).limit(50)).all()
    actors = {c.actor_id for c in changes if c.actor_id is not None}
    people = dict(db().execute(select(User.id, User.email).where(User.id.in_(actors))).all()) if actors else {}
    record("admin_scopes", f"user:{user.id}", [user.id, *people])
    return render_template("admin/scopes.html", user=user, granted=scopes.scopes_of(db(), user),
                           hosted=list(hosted), form=form, revoke=RevokeScopeForm(), changes=changes,
                           people=people, labels=SCOPE_LABELS, local=local), status, NO_STORE


@bp.get("/users/<int:user_id>/scopes")
@admin_required
def user_scopes(user_id: int) -> Any:
    return _page(_user_or_404(user_id), ScopeForm(formdata=None))


@bp.post("/users/<int:user_id>/scopes")
@admin_required
def grant_scope(user_id: int) -> Any:
    user = _user_or_404(user_id)
    form = ScopeForm()
    if not form.validate_on_submit():
        return _page(user, form, 422)
    try:
        with transaction(sessions()) as session:
            change = scopes.grant(session, _locked(session, user_id), form.spec(),
                                  actor=session.get(User, current_user.id), now=utcnow())
    except scopes.ScopeError as refused:
        form.target.errors = [*form.target.errors, str(REFUSALS[refused.code])]
        return _page(user, form, 422)
    flash(_("%(scope)s granted to %(email)s.", scope=change.scope, email=user.email) if change
          else _("%(email)s already had this scope: nothing changed.", email=user.email))
    return redirect(url_for("admin.user_scopes", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/scopes/revoke")
@admin_required
def revoke_scope(user_id: int) -> Any:
    user = _user_or_404(user_id)
    form = RevokeScopeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with transaction(sessions()) as session:
            change = scopes.revoke(session, _locked(session, user_id), form.scope.data or "",
                                   actor=session.get(User, current_user.id), now=utcnow())
    except scopes.ScopeError:
        change = None
    flash(_("%(scope)s revoked from %(email)s.", scope=change.scope, email=user.email) if change
          else _("%(email)s did not have this scope: nothing changed.", email=user.email))
    return redirect(url_for("admin.user_scopes", user_id=user_id), code=303)


def _locked(session: Any, user_id: int) -> User:
    user = session.get(User, user_id)  # scopes.grant and revoke lock it
    if user is None:
        abort(404)
    found: User = user
    return found
