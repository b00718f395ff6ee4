"""The receipt's mail: sent once after the payment's transaction commits, the PDF attached.

An outbox handler (``receipts.MAIL_TOPIC``, detached: never in the request that paid): the PDF is made outside any
write transaction, then ``Receipt.mailed_at`` is set in the transaction that queues the mail, so a second run (a
relay after a crash) queues nothing again.
"""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from engagement import outbox
from engagement.db import transaction, utcnow
from engagement.donations import receipts
from engagement.donations.amounts import after_reduction, money
from engagement.donations.models import Donation, Receipt
from engagement.mail import service as mail

TEMPLATE = "donation_receipt"
def pdf_name(receipt: Receipt) -> str:
    return f"recu-fiscal-{receipt.label}.pdf"


def pdf(session: Session, receipt: Receipt) -> bytes:
    from engagement.donations.receipt_pdf import render  # fpdf2 is loaded only where receipts are made

    return render(receipts.document(session, receipt))


@outbox.self_managed(receipts.MAIL_TOPIC, detached=True)  # a PDF takes 100 ms or more: never in a webhook's request
def mail_receipt(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
    """Make the PDF outside any write transaction (SQLite's write lock would hold every other writer for as long),
    then queue the mail and mark the receipt mailed in one transaction: run twice, it mails once."""
    with factory() as session:
        receipt = session.get(Receipt, payload["receipt_id"])
        if receipt is None or receipt.mailed_at is not None:
            return
        donation = session.get(Donation, receipt.donation_id)
        assert donation is not None  # a receipt's donation is never deleted
        data = receipts.document(session, receipt)
        body = pdf(session, receipt)
        name, email, first_name = pdf_name(receipt), donation.email, donation.first_name
        locale = donation.locale if donation.locale in ("fr", "en") else "fr"
    what = {"fr": {"gift": "don", "membership": "cotisation"},
            "en": {"gift": "donation", "membership": "membership fee"}}[locale][data.kind]
    context = {"first_name": first_name, "number": data.number, "what": what, "yearly": receipt.yearly,
               "year": receipt.year, "amount": money(data.total_cents, locale),
               "cost": money(after_reduction(data.total_cents), locale), "beneficiary": data.beneficiary.name,
               "account_link": mail.absolute("/account/donations")}
    attachment = {"filename": name, "content_type": "application/pdf",
                  "content_base64": base64.b64encode(body).decode()}
    with transaction(factory) as session:
        kept = session.get(Receipt, receipt.id, with_for_update=True)
        if kept is None or kept.mailed_at is not None:
            return  # mailed meanwhile by another delivery of the same row
        mail.compose(session, to=[email], context=context, locale=locale, template=TEMPLATE, attachments=[attachment])
        kept.mailed_at = utcnow()
