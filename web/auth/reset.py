"""Forgotten password and lost activation mail: the same answer, after the same work, whether or not the address
has an account (the request only queues the ask; whether a link leaves is decided after the answer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from engagement.accounts import passwords, reset, signup, tokens
from engagement.db import transaction, utcnow
from forms.messages import DEFAULT_MESSAGES
from forms.text import TextForm
from web.auth.views import _log_in, bp
from web.db import db, sessions
from web.extensions import limiter
from web.locale import current_locale
from web.responses import NO_STORE


class ResetRequestForm(TextForm):
    email = EmailField(_l("Email address"), validators=[DataRequired()], render_kw={"autocomplete": "email"})


class NewPasswordForm(TextForm):
    password = PasswordField(_l("New password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("The same password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})

    def validate_password(self, field: Any) -> None:
        rule = passwords.problem(field.data or "")
        if rule:
            raise ValidationError(str(DEFAULT_MESSAGES[rule]))


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit("5 per minute; 20 per hour", methods=["POST"])
def reset_request() -> Any:
    return _link_by_email(
        reset.ask_reset, "auth/reset_sent.html", title=_("Forgotten password"),
        heading=_("Forgotten password"),
        lead=_("Give the address of your account: we will send you a link to choose a new password."))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def reset_with_token(token: str) -> Any:
    if not tokens.is_valid(db(), token, "reset", utcnow()):
        message = _("This link is invalid, expired or already used. Ask for a new one.")
        return render_template("errors/error.html", code=400, message=message), 400, NO_STORE
    form = NewPasswordForm()
    if form.validate_on_submit():
        with transaction(sessions()) as dbs:
            user = reset.reset_password(dbs, token, form.password.data or "", utcnow())
        if user is not None:
            _log_in(user)
            return render_template("auth/reset_done.html", user=user), 200, NO_STORE
    return render_template("auth/reset_password.html", form=form), 422 if form.errors else 200, NO_STORE


@bp.route("/account/activate/resend", methods=["GET", "POST"])
@limiter.limit("3 per minute; 10 per hour", methods=["POST"])
def resend_activation() -> Any:
    """Another activation link, with the same answer whether or not an account awaits activation."""
    return _link_by_email(
        signup.ask_activation, "auth/resend_sent.html", title=_("Activation link"),
        heading=_("Activation mail not received?"),
        lead=_("Give the address you joined with: we will send a new activation link."))


def _link_by_email(ask: Callable[[Session, str, str], None], sent_page: str, **texts: str) -> Any:
    """Ask an address, queue the ask (``ask`` looks nothing up), answer the same page either way."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        with transaction(sessions()) as dbs:
            ask(dbs, form.email.data or "", current_locale())
        return render_template(sent_page), 200, NO_STORE
    page = render_template("auth/email_request.html", form=form, **texts)
    return page, 422 if form.errors else 200, NO_STORE
