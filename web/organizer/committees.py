"""The organizer area's committee reviews: proposals waiting for a decision, approving and refusing them."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from engagement.accounts import scopes
from engagement.accounts.models import User
from engagement.committees import service
from engagement.db import transaction, utcnow
from web.access import record
from web.auth.roles import role_required
from web.db import db, sessions
from web.organizer import bp
from web.organizer.scoping import reach, scoped
from web.responses import NO_STORE


@bp.get("/committees")
@role_required("organizer")
@scoped("any")
def committees() -> Any:
    waiting = service.pending(db(), scopes.decidable_clause(reach()))
    creators = {c.created_by_id: db().get(User, c.created_by_id) for c in waiting if c.created_by_id is not None}
    record("committee_review", "committees:pending", [i for i, user in creators.items() if user is not None])
    return render_template("organizer/committees.html", pending=waiting, creators=creators,
                           decided=service.recently_decided(db(), scopes.committee_clause(reach()))), 200, NO_STORE


@bp.post("/committees/<slug>/approve")
@role_required("organizer")
@scoped("decide")
def approve_committee(slug: str) -> Any:
    return _decide(slug, approve=True)


@bp.post("/committees/<slug>/refuse")
@role_required("organizer")
@scoped("decide")
def refuse_committee(slug: str) -> Any:
    return _decide(slug, approve=False)


def _decide(slug: str, approve: bool) -> Any:
    try:
        with transaction(sessions()) as dbs:
            committee = service.by_slug(dbs, slug)
            if committee is None:
                abort(404)
            service.decide(dbs, committee, approve, utcnow())
            name = committee.name
    except service.CommitteeError:
        flash(_("This committee was already decided: nothing changed."))
    else:
        flash(_("%(name)s is approved: it is listed and members can follow it.", name=name) if approve
              else _("%(name)s is refused: it stays hidden.", name=name))
    return redirect(url_for("organizer.committees"), code=303)
