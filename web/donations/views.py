"""The payment button after the donation workflow, and the page the provider sends the donor back to.

The donation's reference (random, 22 characters) names it in these URLs: the pages show its amount and status,
never who gave. They are private (no-store, noindex): a reference is known to the browser that made it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engagement.db import utcnow
from engagement.donations import service
from engagement.donations.amounts import after_reduction, money
from engagement.donations.models import Donation, DonationPayment, Receipt
from engagement.donations.payments import PageClosed, Payments, PaymentUnavailable
from engagement.workflow.models import WorkflowInstance
from web.db import current_core, db, sessions
from web.extensions import limiter
from web.locale import current_locale
from web.responses import NO_STORE_NOINDEX
from web.wizard.finals import confirmation
from web.wizard.notes import note
from web.wizard.views import forget

log = logging.getLogger(__name__)
bp = Blueprint("donations", __name__, url_prefix="/dons")
WORKFLOW = "donation"  # workflows/donation.yml
WORKFLOWS = {"gift": WORKFLOW, "membership": "membership"}  # the flow that starts each kind again
REFERENCE = "donation"  # the answer of the donation workflow naming its donation (engagement/donations/actions.py)


def _payments() -> Payments:
    payments = current_core().payments
    if payments is None:
        abort(404)  # donations closed: no provider configured (production without Stripe's keys)
    return payments


def _facts(donation: Donation) -> dict[str, Any]:
    """What every donation page says of it: the amount in words, and whether the provider is a stand-in."""
    locale = current_locale()
    return {"donation": donation, "restart": WORKFLOWS.get(donation.kind, WORKFLOW),
            "amount": money(donation.amount_cents, locale),
            "cost": money(after_reduction(donation.amount_cents), locale),
            "live": current_core().payments is not None and current_core().payments.live}  # type: ignore[union-attr]


@confirmation("donation")
@confirmation("membership")
def ready_to_pay(instance: WorkflowInstance, mine: bool) -> dict[str, Any]:
    """The donation (or fee) workflow's last page: the donation held for this visitor, and its payment button;
    on a fee refused by the ceiling, what is left this year."""
    reference = instance.data.get(REFERENCE)
    donation = service.by_reference(db(), reference) if mine and isinstance(reference, str) else None
    facts = _facts(donation) if donation is not None else {}
    return {**facts, "room_left": room_left(instance, current_locale()) if mine else None}


@note(WORKFLOW, "over_ceiling")
def room_left(instance: WorkflowInstance, locale: str) -> str | None:
    """What the donor may still give this year, above the page that refused the amount."""
    left = instance.data.get("remaining_cents")
    if not isinstance(left, int):
        return None
    if left <= 0:
        return _("You have reached the ceiling for this year: you can give again from 1 January.")
    return _("You can still give %(amount)s this year.", amount=money(left, locale))


@bp.post("/<reference>/paiement")
@limiter.limit("30 per hour")  # each call may open a provider page
def pay(reference: str) -> Any:
    """Open the provider's page for this donation (the same page on a second click) and go there."""
    payments = _payments()
    try:
        url = payments.open_page(sessions(), reference, utcnow())
    except PageClosed as closed:
        if closed.status == "unknown":
            abort(404)
        return redirect(url_for("donations.status", reference=reference), code=303)
    except PaymentUnavailable:
        donation = service.by_reference(db(), reference)
        if donation is None:
            abort(404)
        page = render_template("donations/status.html", unavailable=True, **_facts(donation), **_state(donation))
        return page, 503, {**NO_STORE_NOINDEX, "Retry-After": "30"}
    return redirect(url, code=303)  # the provider's own page: the URL came from its API, never from the request


@bp.post("/nouveau")
def again() -> Any:
    """Start a new donation, or fee (``?parcours=membership``); the finished one stays as it is."""
    workflow = request.args.get("parcours", WORKFLOW)
    if workflow not in WORKFLOWS.values():
        abort(404)
    forget(workflow)
    return redirect(url_for("wizard.show", workflow_id=workflow), code=303)


@bp.get("/<reference>")
def status(reference: str) -> Any:
    """Where the provider sends the donor back: paid (the receipt is on its way), still being confirmed, or not
    paid (abandoned or expired: what to do next)."""
    if current_core().payments is None:
        abort(404)
    donation = service.by_reference(db(), reference)
    if donation is None:
        abort(404)
    back = request.args.get("retour", "")
    body = render_template("donations/status.html", back=back if back in ("paye", "abandon") else "",
                           unavailable=False, **_facts(donation), **_state(donation))
    headers = dict(NO_STORE_NOINDEX)
    if donation.status == "pending" and back == "paye":
        headers["Refresh"] = "5"  # the provider's confirmation is on its way: the page looks again by itself
    return body, 200, headers


def _state(donation: Donation) -> dict[str, Any]:
    session = db()
    receipt = session.query(Receipt).join(DonationPayment, DonationPayment.receipt_id == Receipt.id) \
        .filter(DonationPayment.donation_id == donation.id).order_by(Receipt.id.desc()).first()
    paid = donation.status in ("paid", "active") or (donation.monthly and donation.status == "ended")
    return {"paid": paid, "receipt": receipt.label if receipt is not None else None,
            "pending": donation.status == "pending", "closed": donation.status in ("expired", "failed")}


@bp.errorhandler(429)
def too_many(_error: Any) -> Any:
    message = _("You have done this too many times. Please try again in a few minutes.")
    return render_template("errors/error.html", code=429, message=message), 429, NO_STORE_NOINDEX
