"""Receipt numbers: one sequence per calendar year, without gaps or duplicates under concurrency.

The number is taken by an ``UPDATE`` of the year's counter in the transaction that records the receipt: a
concurrent one waits for the row (MariaDB) or the write lock (SQLite), and a rolled-back transaction gives its
number back with it. A receipt's document is made from the ledger when asked (``document``), the same bytes
each time: the mailed PDF and the one downloaded later are one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.orm import Session

from engagement import outbox
from engagement.clock import PARIS
from engagement.donations.documents import Beneficiary, ReceiptData, ReceiptLine
from engagement.donations.models import Donation, DonationPayment, Receipt, ReceiptCounter


def _next_number(session: Session, year: int) -> int:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        session.execute(sqlite.insert(ReceiptCounter).values(year=year, last=0).on_conflict_do_nothing())
    else:
        statement = mysql.insert(ReceiptCounter).values(year=year, last=0)
        session.execute(statement.on_duplicate_key_update(last=statement.table.c.last))
    session.execute(update(ReceiptCounter).where(ReceiptCounter.year == year)
                    .values(last=ReceiptCounter.last + 1).execution_options(synchronize_session=False))
    number = session.scalar(select(ReceiptCounter.last).where(ReceiptCounter.year == year))
    assert number is not None  # the row was written just above, in this transaction
    return number


MAIL_TOPIC = "donations.receipt_mail"  # the outbox topic mailing a receipt once issued (engagement.donations.mails)


def issue(session: Session, donation: Donation, payments: Sequence[DonationPayment], year: int,
          now: datetime, beneficiary: Beneficiary, *, yearly: bool = False) -> Receipt:
    """A receipt for ``payments`` (one for a one-off gift, a year's instalments for a monthly one), mailed to the
    donor after commit (the outbox: a rolled-back payment mails nothing)."""
    if not payments or any(p.receipt_id is not None or p.over_ceiling for p in payments):
        raise ValueError("a receipt covers payments received under the ceiling and not receipted yet")
    receipt = Receipt(year=year, number=_next_number(session, year), donation_id=donation.id, yearly=yearly,
                      issued_at=now, beneficiary={**asdict(beneficiary), "address": list(beneficiary.address)})
    session.add(receipt)
    session.flush()
    for payment in payments:
        payment.receipt_id = receipt.id
    outbox.enqueue(session, MAIL_TOPIC, {"receipt_id": receipt.id})
    return receipt


def beneficiary_of(receipt: Receipt) -> Beneficiary:
    kept = receipt.beneficiary
    return Beneficiary(name=kept["name"], address=tuple(kept["address"]), approval=kept["approval"],
                       treasurer=kept["treasurer"])


def document(session: Session, receipt: Receipt) -> ReceiptData:
    """What the receipt says, from the ledger: the money kept (refunds and chargebacks taken off)."""
    donation = session.get(Donation, receipt.donation_id)
    assert donation is not None  # a receipt's donation is never deleted (the law keeps both)
    payments = session.scalars(select(DonationPayment).where(DonationPayment.receipt_id == receipt.id)
                               .order_by(DonationPayment.received_at, DonationPayment.id)).all()
    lines = tuple(ReceiptLine(p.received_at.astimezone(PARIS).date(),
                              p.amount_cents - p.refunded_cents - p.disputed_cents) for p in payments)
    address = (donation.street, f"{donation.postal_code} {donation.city_name}")
    return ReceiptData(number=receipt.label, issued_on=receipt.issued_at.astimezone(PARIS).date(),
                       kind="membership" if donation.kind == "membership" else "gift",
                       first_name=donation.first_name, last_name=donation.last_name, address=address,
                       lines=lines, beneficiary=beneficiary_of(receipt))
