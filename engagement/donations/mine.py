"""A member's own donations and receipts (their account's, or given under their account's address)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from engagement.donations.models import Donation, DonationPayment, Receipt


@dataclass(frozen=True)
class Given:
    reference: str
    kind: str
    monthly: bool
    amount_cents: int
    status: str
    created_at: datetime


@dataclass(frozen=True)
class Kept:
    """A receipt the member may download: its id, number, year, and the amount it covers (net)."""

    id: int
    label: str
    yearly: bool
    issued_at: datetime
    total_cents: int


def theirs(user_id: int | None, email: str) -> ColumnElement[bool]:
    """A person's donations: given under their address, or from their account (when they have one)."""
    return or_(Donation.email == email, *([Donation.user_id == user_id] if user_id is not None else []))


def donations(session: Session, user_id: int, email: str, limit: int = 100) -> list[Given]:
    """Their donations that reached the payment (opened pages never paid are left out), newest first."""
    rows = session.execute(select(Donation.reference, Donation.kind, Donation.monthly, Donation.amount_cents,
                                  Donation.status, Donation.created_at)
                           .where(theirs(user_id, email), Donation.status.in_(("paid", "active", "ended")))
                           .order_by(Donation.created_at.desc(), Donation.id.desc()).limit(limit))
    return [Given(*row) for row in rows]


def receipts(session: Session, user_id: int, email: str) -> list[Kept]:
    """Their receipts, newest first, each with the money it covers net of refunds and chargebacks."""
    rows = session.execute(
        select(Receipt.id, Receipt.year, Receipt.number, Receipt.yearly, Receipt.issued_at,
               DonationPayment.amount_cents - DonationPayment.refunded_cents - DonationPayment.disputed_cents)
        .join(Donation, Donation.id == Receipt.donation_id)
        .join(DonationPayment, DonationPayment.receipt_id == Receipt.id)
        .where(theirs(user_id, email))
        .order_by(Receipt.issued_at.desc(), Receipt.id.desc()))
    kept: dict[int, Kept] = {}
    for receipt_id, year, number, yearly, issued_at, net in rows:
        known = kept.get(receipt_id)
        total = (known.total_cents if known else 0) + int(net)
        kept[receipt_id] = Kept(receipt_id, f"{year}-{number:06d}", yearly, issued_at, total)
    return list(kept.values())


def receipt_of(session: Session, receipt_id: int, user_id: int, email: str) -> Receipt | None:
    """The receipt, if it is theirs (anyone else's answers None, as if it did not exist)."""
    return session.scalar(select(Receipt).join(Donation, Donation.id == Receipt.donation_id)
                          .where(Receipt.id == receipt_id, theirs(user_id, email)))
