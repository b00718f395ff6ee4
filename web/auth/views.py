"""Log in and out (throttled, session regenerated), sign-up's entry and activation links."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, select, update
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired

from engagement.accounts import service as accounts
from engagement.accounts import signup as signup_service
from engagement.accounts.models import User
from engagement.db import transaction, utcnow
from engagement.workflow.models import WorkflowInstance
from forms.text import TextForm
from web.auth import throttle
from web.auth.welcome import welcome
from web.db import db, sessions
from web.extensions import limiter, login_manager
from web.locale import current_locale
from web.resilience import needs_session
from web.safety import safe_next
from web.wizard.views import SESSION_KEY

bp = Blueprint("auth", __name__)


class LoginForm(TextForm):
    email = EmailField(_l("Email address"), validators=[DataRequired()], render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


@login_manager.unauthorized_handler
def ask_to_log_in() -> Any:
    return redirect(url_for("auth.login", next=request.path))


# Every signed-in request loads its member: a statement built once costs about half of ``Session.get``'s, which
# builds its own at each call (the request's session is new: nothing in its identity map to look up first).
_BY_ID = select(User).where(User.id == bindparam("id"))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The session's account, when it is still the one the session was opened for (``User.get_id``)."""
    number, _dot, stamp = user_id.partition(".")
    user = db().scalar(_BY_ID, {"id": int(number)}) if number.isdigit() and stamp else None
    if user is None or not user.is_active or not hmac.compare_digest(user.get_id(), user_id):
        return None
    return user


def _regenerate_session() -> None:
    """A new session id at every change of identity (no session fixation); contents kept."""
    interface = current_app.session_interface
    if hasattr(interface, "regenerate"):
        interface.regenerate(session)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def login() -> Any:
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        email, password = form.email.data or "", form.password.data or ""
        if throttle.locked(email):
            form.password.errors.append(_("Too many failed attempts: wait 10 minutes before trying again."))
        else:
            refusal = _try_login(email, password)
            if refusal is None:
                return redirect(safe_next(form.next.data, url_for("core.home")), code=303)
            form.password.errors.append(refusal)
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status, {"Cache-Control": "no-store"}


def _try_login(email: str, password: str) -> str | None:
    """Log in and return None, or return why not (a failure counts towards the throttle)."""
    with transaction(sessions()) as dbs:
        user = accounts.authenticate(dbs, email, password)
        if user is not None and user.activated_at is not None:
            accounts.seen(user, utcnow())
            _claim_instances(dbs, user.id)
    if user is None:
        throttle.record_failure(email)
        return _("Wrong email or password.")
    if user.activated_at is None:
        return _("Your account is not activated yet: follow the link we sent you by email.")
    _log_in(user)
    return None


def _claim_instances(dbs: Any, user_id: int) -> None:
    """Instances started anonymously in this browser follow the visitor into their account."""
    ids = list((session.get(SESSION_KEY) or {}).values())
    if ids:
        dbs.execute(update(WorkflowInstance).where(WorkflowInstance.id.in_(ids), WorkflowInstance.actor_id.is_(None))
                    .values(actor_id=user_id))


def _log_in(user: User) -> None:
    _regenerate_session()
    login_user(user)


@bp.get("/signup")
def signup() -> Any:
    return redirect(url_for("wizard.show", workflow_id="signup"))


@bp.get("/account/activate/<token>")
@limiter.limit("20 per minute")
@needs_session  # the single-use link logs in: never spend it while the session cannot be saved
def activate(token: str) -> Any:
    """The link of the activation mail: activates the account and logs it in, once."""
    with transaction(sessions()) as dbs:
        user = signup_service.activate(dbs, token, utcnow())
        if user is not None:
            _claim_instances(dbs, user.id)
    if user is None:
        message = _("This link is invalid, expired or already used. If your account is active, log in.")
        return render_template("errors/error.html", code=400, message=message), 400
    _log_in(user)
    page = render_template("auth/activated.html", user=user, **welcome(db(), user, utcnow(), current_locale()))
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    session.clear()
    _regenerate_session()
    return redirect(url_for("core.home"), code=303)
