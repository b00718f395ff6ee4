"""The treasurer's pages: the month totals, the payments, what must be given back, the yearly list (CSV).

Treasurers (and admins) only. Every page shows donors' personal data: never stored by a browser (no-store), and
each view of names and each export is written to the access log (engagement.privacy.access). A refund is asked
of the provider outside any transaction; the ledger moves when its webhook arrives (engagement.donations.treasury).
"""

from __future__ import annotations

import csv
import io
import logging
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engagement.accounts.models import User
from engagement.clock import PARIS
from engagement.db import transaction, utcnow
from engagement.donations import treasury
from engagement.donations.amounts import money
from engagement.payments.errors import GatewayError
from engagement.spreadsheets import BOM, neutralised
from web.access import record
from web.auth.roles import role_required
from web.db import current_core, db, sessions
from web.explorer.present import local
from web.extensions import limiter
from web.locale import current_locale
from web.responses import NO_STORE_NOINDEX
from web.treasurer.forms import KIND_LABEL, STATUS_LABELS, FilterForm, RefundForm, month_names

log = logging.getLogger(__name__)
bp = Blueprint("treasurer", __name__, url_prefix="/tresorerie")
CSV_COLUMNS = ("nom", "prenom", "adresse", "code_postal", "ville", "pays", "dons_euros", "cotisations_euros",
               "paiements", "recus")
REFUSALS = {
    "unknown": _l("This payment does not exist."),
    "amount": _l("The amount must be above 0 € and at most what is left to refund."),
    "changed": _l("This payment changed since the page was shown: look at it again before refunding."),
    "pending": _l("Another refund of this payment is waiting for the provider's answer."),
}


def _user_key() -> str:
    return f"treasurer-refund:{current_user.get_id()}"


def _page(template: str, status: int = 200, **context: Any) -> Any:
    return render_template(template, euros=_euros, local=local, kinds=KIND_LABEL, statuses=STATUS_LABELS,
                           **context), status, NO_STORE_NOINDEX


def _euros(cents: int) -> str:
    return money(cents, current_locale())


@bp.get("")
@role_required("treasurer")
def index() -> Any:
    """The year's totals per month, the payments to give back, the yearly lists."""
    this_year = utcnow().astimezone(PARIS).year
    year = request.args.get("annee", this_year, type=int)
    if not 2000 <= year <= 9999:
        abort(404)
    session = db()
    months, total = treasury.month_totals(session, year)
    to_refund = treasury.to_refund(session)
    years = sorted({*treasury.years(session), this_year}, reverse=True)
    record("treasury", "donations:to_refund", (r.user_id for r in to_refund), people=len(to_refund))
    return _page("treasurer/index.html", year=year, months=months, total=total, to_refund=to_refund, years=years,
                 month_names=month_names())


@bp.get("/paiements")
@role_required("treasurer")
def payments() -> Any:
    session = db()
    form = FilterForm(formdata=request.args).bind(treasury.years(session))
    if not form.validate():
        return _page("treasurer/payments.html", 400, form=form, page=None)
    filters = form.filters()
    page = treasury.payments(session, filters, form.page.data or 1)
    target = "donations:" + ",".join(f"{k}={v}" for k, v in sorted(form.applied().items()))
    record("treasury_payments", target, (r.user_id for r in page.rows), people=len(page.rows))
    return _page("treasurer/payments.html", form=form, page=page, applied=form.applied())


@bp.get("/export/<int:year>.csv")
@role_required("treasurer")
def export(year: int) -> Any:
    """The yearly list for the CNCCFP (engagement.donations.treasury.yearly_list), for a spreadsheet."""
    session = db()
    lines = treasury.yearly_list(session, year)
    record("treasury_export", f"donations:{year}", treasury.members_listed(session, year), people=len(lines) or None)
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        texts = (line.last_name, line.first_name, line.street, line.postal_code, line.city, line.country)
        writer.writerow([*(neutralised(t) for t in texts), _decimal(line.gifts_cents), _decimal(line.fees_cents),
                         line.payments, " ".join(line.receipts)])
    headers = {**NO_STORE_NOINDEX, "Content-Disposition": f'attachment; filename="donateurs-{year}.csv"'}
    return Response(out.getvalue(), mimetype="text/csv", headers=headers)


def _decimal(cents: int) -> str:
    """Euros with a dot and two decimals: what any spreadsheet and the commission's tools read."""
    return f"{cents // 100}.{cents % 100:02d}"


def _refund_page(row: treasury.PaymentRow, form: RefundForm, status: int = 200, error: str | None = None) -> Any:
    record("treasury_refund", f"donation_payment:{row.id}", [row.user_id], people=1)
    return _page("treasurer/refund.html", status, row=row, form=form, error=error,
                 closed=current_core().payments is None)


@bp.get("/paiements/<int:payment_id>/remboursement")
@role_required("treasurer")
def refund(payment_id: int) -> Any:
    """The confirmation page before a refund: the payment, and how much to give back (all that is left)."""
    row = treasury.payment(db(), payment_id) or abort(404)
    form = RefundForm(formdata=None, data={"amount": row.left_cents / 100 if row.left_cents else None,
                                           "seen": str(row.refunded_cents)})
    return _refund_page(row, form)


@bp.post("/paiements/<int:payment_id>/remboursement")
@role_required("treasurer")
@limiter.limit("30 per hour", key_func=_user_key)
def send_refund(payment_id: int) -> Any:
    form = RefundForm()
    row = treasury.payment(db(), payment_id) or abort(404)
    payments = current_core().payments
    if not form.validate_on_submit() or payments is None:
        return _refund_page(row, form, 400)
    try:
        with transaction(sessions()) as session:
            asked = treasury.request_refund(session, payment_id, form.cents(), session.get(User, current_user.id),
                                            utcnow(), seen_refunded_cents=form.seen_cents())
    except treasury.RefundRefused as refused:
        return _refund_page(row, form, 409 if refused.code in ("changed", "pending") else 400,
                            str(REFUSALS[refused.code]))
    try:  # outside the transaction: the provider is a network call
        payments.gateway.refund(asked.provider_payment_id, asked.amount_cents, asked.idempotency_key)
    except GatewayError as error:
        with transaction(sessions()) as session:
            treasury.refund_not_sent(session, asked)
        log.warning("donation payment %s: refund not sent (%s)", payment_id, error)
        message = _("The payment provider could not be reached: nothing was refunded. Try again in a moment.") \
            if error.retryable else _("The payment provider refused this refund: nothing was refunded.")
        return _refund_page(row, form, 502, message)
    return redirect(url_for("treasurer.refund_sent", payment_id=payment_id), code=303)


@bp.get("/paiements/<int:payment_id>/remboursement/demande")
@role_required("treasurer")
def refund_sent(payment_id: int) -> Any:
    """What was asked, and that the ledger shows it once the provider confirms it."""
    row = treasury.payment(db(), payment_id) or abort(404)
    record("treasury_refund", f"donation_payment:{row.id}", [row.user_id], people=1)
    return _page("treasurer/refund_sent.html", row=row)
