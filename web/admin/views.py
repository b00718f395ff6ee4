"""The admin area: granting roles and the analysts' permission to see personal data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from engagement.accounts import roles
from engagement.accounts.models import RoleChange, User
from engagement.db import transaction, utcnow
from forms.admin import ROLE_LABELS, RoleForm
from web.access import record
from web.auth.roles import admin_required
from web.db import db, sessions
from web.explorer.present import local
from web.responses import NO_STORE
from web.safety import safe_next

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE = 50
REFUSALS = {
    "own_admin": _l("You cannot remove your own admin role: another admin can."),
    "last_admin": _l("The last administrator keeps the admin role."),
    "unknown_role": _l("Unknown role."),
}


@bp.get("/users")
@admin_required
def users() -> Any:
    query = request.args.get("q", "").strip()[:254]
    after = request.args.get("after", 0, type=int)
    after = after if 0 <= after < 2**63 else 0
    found = roles.search(db(), query, after=after, limit=PAGE + 1)
    more = len(found) > PAGE
    found = found[:PAGE]
    forms = {user.id: RoleForm(formdata=None, role=user.role, can_see_personal_data=user.can_see_personal_data,
                               next=request.full_path) for user in found}
    changes = roles.recent_changes(db())
    people = _people(changes)
    # The search itself is not kept: it may be someone's address.
    record("admin_users", "users:search" if query else "users", [*(u.id for u in found), *people])
    return render_template(
        "admin/users.html", users=found, forms=forms, query=query, paged=bool(after),
        next_after=found[-1].id if more else None, changes=changes, people=people,
        labels=ROLE_LABELS, local=local), 200, NO_STORE


def _people(changes: Sequence[RoleChange]) -> dict[int, str]:
    """The emails of the accounts the log names, in one query."""
    ids = {i for change in changes for i in (change.user_id, change.actor_id) if i is not None}
    if not ids:
        return {}
    return dict(db().execute(select(User.id, User.email).where(User.id.in_(ids))).all())


@bp.post("/users/<int:user_id>/role")
@admin_required
def set_role(user_id: int) -> Any:
    form = RoleForm()
    back = safe_next(form.next.data, url_for("admin.users"))
    if not form.validate_on_submit():
        flash(_("The role was not changed: the form was incomplete."))
        return redirect(back, code=303)
    try:
        with transaction(sessions()) as session:
            user = session.get(User, user_id)  # roles.grant locks it
            if user is None:
                abort(404)
            actor = session.get(User, current_user.id)
            change = roles.grant(session, user, role=form.role.data, personal_data=form.can_see_personal_data.data,
                                 actor=actor, now=utcnow())
            email = user.email
    except roles.RoleError as refused:
        flash(str(REFUSALS.get(refused.code, _("The role was not changed."))))
        return redirect(back, code=303)
    flash(_outcome(change, email))
    return redirect(back, code=303)


def _outcome(change: RoleChange | None, email: str) -> str:
    if change is None:
        return _("Nothing changed for %(email)s.", email=email)
    role = str(ROLE_LABELS[change.to_role])
    if change.to_personal_data and change.to_role == "analyst":
        return _("%(email)s is now %(role)s and sees personal data.", email=email, role=role)
    return _("%(email)s is now %(role)s.", email=email, role=role)


from web.admin import scopes as _scopes  # noqa: E402, F401 - its views, on this blueprint
