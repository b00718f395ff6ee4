"""The invitation's public pages: its friendly URL, the friend's join link and opt-out link."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from engagement.db import transaction, utcnow
from engagement.invitations import links, service
from engagement.workflow import definitions
from web.db import db, sessions
from web.extensions import csrf
from web.resilience import needs_session
from web.responses import NO_STORE
from web.wizard.views import open_with

bp = Blueprint("invitations", __name__)


@bp.get("/invitation")
def start() -> Any:
    return redirect(url_for("wizard.show", workflow_id="invitation"))


@bp.get("/invitation/join/<token>")
@needs_session
def join(token: str) -> Any:
    """The friend followed the email's link: the sign-up they now start is credited to the inviter."""
    invitation = service.followed(db(), token)
    if current_user.is_authenticated:
        return redirect(url_for("auth.account"))
    flow = definitions.active(db(), "signup")
    if invitation is None or flow is None:
        return render_template("invitations/link_invalid.html"), 404, NO_STORE
    open_with(flow, {service.INVITED_BY: invitation.id})
    return redirect(url_for("wizard.show", workflow_id="signup"), code=303)


@bp.route("/invitation/optout/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail clients POST here without a form; the signed token is the credential
def optout(token: str) -> Any:
    """A confirmation page (link scanners only GET), then the opt-out, which is kept for good."""
    if links.read_optout(token) is None:
        return render_template("invitations/link_invalid.html"), 404, NO_STORE
    if request.method == "GET":
        return render_template("invitations/optout.html", token=token, done=False), 200, NO_STORE
    with transaction(sessions()) as dbs:
        service.opt_out(dbs, token, utcnow())
    return render_template("invitations/optout.html", token=token, done=True), 200, NO_STORE
