"""A member's donations and tax receipts, from their account (the receipt's PDF as it was mailed)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template
from flask_login import current_user, login_required

from engagement.donations import mails, mine
from engagement.donations.amounts import money
from web.auth.views import bp
from web.db import db
from web.locale import current_locale
from web.responses import NO_STORE


@bp.get("/account/donations")
@login_required
def my_donations() -> Any:
    user = current_user._get_current_object()
    locale = current_locale()
    given = mine.donations(db(), user.id, user.email)
    kept = mine.receipts(db(), user.id, user.email)
    return render_template("auth/my_donations.html", given=given, kept=kept,
                           money=lambda cents: money(cents, locale)), 200, NO_STORE


@bp.get("/account/donations/receipts/<int:receipt_id>.pdf")
@login_required
def my_receipt(receipt_id: int) -> Any:
    user = current_user._get_current_object()
    receipt = mine.receipt_of(db(), receipt_id, user.id, user.email)
    if receipt is None:
        abort(404)
    body = mails.pdf(db(), receipt)
    return Response(body, mimetype="application/pdf", headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="{mails.pdf_name(receipt)}"'})
