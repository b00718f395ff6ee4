"""The receipt's mail: sent once after the payment's transaction commits, the PDF attached.

An outbox handler (``receipts.MAIL_TOPIC``): it runs in its own transaction, and ``Receipt.mailed_at`` set in that
transaction with the mail queued makes a second run (a relay after a crash) queue nothing again.
"""

from __future__ import annotations

import base64
from typing import Any

from babel.numbers import format_currency
from sqlalchemy.orm import Session

from engagement import outbox
from engagement.db import utcnow
from engagement.donations import receipts
from engagement.donations.models import Donation, Receipt
from engagement.mail import service as mail

TEMPLATE = "donation_receipt"
KEPT_SHARE = 0.34  # what a gift costs once the 66 % tax reduction applies (article 200 of the code général des impôts)


def money(cents: int, locale: str) -> str:
    """``50,00 €`` (French: a no-break space before the sign), ``€50.00`` in English."""
    return format_currency(cents / 100, "EUR", locale="fr_FR" if locale == "fr" else "en_GB")


def after_reduction(cents: int) -> int:
    return round(cents * KEPT_SHARE)


def pdf_name(receipt: Receipt) -> str:
    return f"recu-fiscal-{receipt.label}.pdf"


def pdf(session: Session, receipt: Receipt) -> bytes:
    from engagement.donations.receipt_pdf import render  # fpdf2 is loaded only where receipts are made

    return render(receipts.document(session, receipt))


@outbox.handler(receipts.MAIL_TOPIC)
def mail_receipt(session: Session, payload: dict[str, Any]) -> None:
    receipt = session.get(Receipt, payload["receipt_id"], with_for_update=True)
    if receipt is None or receipt.mailed_at is not None:
        return
    donation = session.get(Donation, receipt.donation_id)
    assert donation is not None  # a receipt's donation is never deleted
    data = receipts.document(session, receipt)
    locale = donation.locale if donation.locale in ("fr", "en") else "fr"
    what = {"fr": {"gift": "don", "membership": "cotisation"},
            "en": {"gift": "donation", "membership": "membership fee"}}[locale][data.kind]
    context = {"first_name": donation.first_name, "number": data.number, "what": what, "yearly": receipt.yearly,
               "year": receipt.year, "amount": money(data.total_cents, locale),
               "cost": money(after_reduction(data.total_cents), locale), "beneficiary": data.beneficiary.name,
               "account_link": mail.absolute("/account")}
    attachment = {"filename": pdf_name(receipt), "content_type": "application/pdf",
                  "content_base64": base64.b64encode(pdf(session, receipt)).decode()}
    mail.compose(session, to=[donation.email], context=context, locale=locale, template=TEMPLATE,
                 attachments=[attachment])
    receipt.mailed_at = utcnow()
