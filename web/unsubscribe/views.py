"""The campaigns' unsubscribe link: a confirmation page, then one click (RFC 8058) that takes an address off them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy.exc import IntegrityError

from engagement.db import transaction, utcnow
from engagement.mail import service as mail
from engagement.mail import suppression
from engagement.mail.models import MailSuppression
from engagement.privacy import consents
from web.auth.consents import NEWSLETTER_WORDS
from web.db import db, sessions
from web.extensions import csrf
from web.locale import current_locale
from web.responses import NO_STORE_NOINDEX

bp = Blueprint("unsubscribe", __name__)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@bp.route("/unsubscribe/<token>/<int:member>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail clients POST here without a form; the signed token is the credential
def unsubscribe(token: str, member: int | None = None) -> Any:
    """GET asks (link scanners only GET); POST records the unsubscribe, as often as it is sent, and withdraws
    the newsletter of the member the link names (a member's campaign mail names them)."""
    email_hash = mail.read_unsubscribe(token)
    if email_hash is None:
        return render_template("unsubscribe/unsubscribe.html", state="invalid"), 404, NO_STORE_NOINDEX
    if request.method == "GET":
        done = db().get(MailSuppression, email_hash) is not None
        return render_template("unsubscribe/unsubscribe.html", state="done" if done else "confirm",
                               token=token, member=member), 200, NO_STORE_NOINDEX
    try:
        with transaction(sessions()) as session:
            suppression.suppress_hash(session, email_hash, "unsubscribed", "link", utcnow())
            if member is not None:
                consents.unsubscribed(session, member, email_hash, text=str(NEWSLETTER_WORDS), locale=current_locale(),
                                      now=utcnow())
    except IntegrityError:
        pass  # the same link posted twice at once: the other request recorded it
    return render_template("unsubscribe/unsubscribe.html", state="done"), 200, NO_STORE_NOINDEX
