"""The donations ledger: each gift and fee, each movement of money, the ceiling's running totals, the receipts.

What the law asks us to keep (the donor's identity and address, each payment, its receipt) is kept here for the
treasurer and the CNCCFP's yearly check; nothing else about the donor is (docs/donations.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engagement.db import Base, utcnow


class Donation(Base):
    """A gift (one-off or monthly) or a membership fee, from its hosted payment page to its end.

    ``pending`` while the page is open (its amount held under the donor's ceiling), then ``paid`` (one-off) or
    ``active`` (monthly, until ``ended``); ``expired`` or ``failed`` when no money came.
    """

    __tablename__ = "donations"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True,
                                           comment="random; what the payment provider carries back to us")
    kind: Mapped[str] = mapped_column(String(16), comment="gift or membership")
    monthly: Mapped[bool] = mapped_column(default=False, comment="a monthly gift (a subscription at the provider)")
    amount_cents: Mapped[int] = mapped_column(comment="each payment's amount, in euro cents")
    status: Mapped[str] = mapped_column(String(16), default="pending",
                                        comment="pending, paid, active, ended, expired or failed")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True,
                                                comment="the member who gave, when signed in")
    first_name: Mapped[str] = mapped_column(String(100), comment="the donor, as the law requires it on the receipt")
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), comment="where the receipt is sent")
    locale: Mapped[str] = mapped_column(String(5), default="fr", comment="the language of the donor's mails")
    street: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(10))
    city_code: Mapped[str] = mapped_column(String(5), comment="INSEE commune code")
    city_name: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="FR", comment="ISO 3166 code of the address")
    attestation: Mapped[str] = mapped_column(
        String(16), comment="national or resident: what the donor certified (only they may give)")
    ceiling_key: Mapped[str] = mapped_column(String(64), index=True,
                                             comment="SHA-256 of the normalised identity and address: one person")
    year: Mapped[int] = mapped_column(comment="the calendar year (Paris) its held amount counts in")
    held_cents: Mapped[int] = mapped_column(
        default=0, comment="held under the ceiling while the payment page is open; 0 once paid, expired or failed")
    session_id: Mapped[str | None] = mapped_column(String(255), unique=True, comment="the provider's checkout")
    subscription_id: Mapped[str | None] = mapped_column(String(255), unique=True,
                                                        comment="the provider's subscription (monthly)")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(comment="the payment page's end: unpaid by then, the hold goes")
    ended_at: Mapped[datetime | None] = mapped_column(comment="paid, expired, failed or (monthly) stopped")
    stop_reason: Mapped[str | None] = mapped_column(String(32), comment="why a monthly gift stopped: ceiling, donor")


class DonationPayment(Base):
    """One movement of money received: a one-off gift's payment, or one instalment of a monthly gift."""

    __tablename__ = "donation_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), index=True)
    payment_id: Mapped[str] = mapped_column(String(255), unique=True,
                                            comment="the provider's payment intent or invoice: money counted once")
    amount_cents: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(comment="when the provider says the money was received")
    year: Mapped[int] = mapped_column(comment="the calendar year (Paris) the payment counts in")
    refunded_cents: Mapped[int] = mapped_column(default=0, comment="given back so far (refunds)")
    disputed_cents: Mapped[int] = mapped_column(default=0, comment="taken back by an open or lost chargeback")
    over_ceiling: Mapped[bool] = mapped_column(
        default=False, comment="received past the donor's yearly ceiling: not counted, to be refunded")
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("donation_receipts.id"), index=True)
    refund_requested_at: Mapped[datetime | None] = mapped_column(
        comment="when the treasurer last asked the provider for a refund (the ledger moves on its webhook)")
    refund_requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True,
                                                            comment="the treasurer who asked")
    refund_requested_cents: Mapped[int | None] = mapped_column(
        comment="the refunded total asked for: the refund is pending while refunded_cents is below it")


class DonorYear(Base):
    """What one person (``ceiling_key``) has given in a calendar year, net, plus what open payment pages hold:
    the row the ceiling's check-and-add updates in one statement (two racing payments cannot both fit)."""

    __tablename__ = "donor_years"

    ceiling_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    counted_cents: Mapped[int] = mapped_column(default=0, comment="received (net of refunds) plus held, in cents")


class PaymentEventSeen(Base):
    """Each provider event applied, by its id: the same event delivered again changes nothing."""

    __tablename__ = "payment_events"
    __table_args__ = (Index("ix_payment_events_received_at", "received_at"),)

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16), comment="applied, duplicate, ignored or unknown")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Receipt(Base):
    """A tax receipt: numbered per calendar year without gaps (the number is taken in the transaction that
    records it, from ``receipt_counters``)."""

    __tablename__ = "donation_receipts"
    __table_args__ = (UniqueConstraint("year", "number", name="uq_donation_receipts_year_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(autoincrement=False)
    number: Mapped[int] = mapped_column(autoincrement=False)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), index=True)
    yearly: Mapped[bool] = mapped_column(default=False, comment="a monthly donor's receipt for the whole year")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    beneficiary: Mapped[dict[str, Any]] = mapped_column(
        comment="the financing association as the receipt names it, fixed when issued (name, address, approval)")
    mailed_at: Mapped[datetime | None] = mapped_column(comment="when its mail was queued (once)")

    @property
    def label(self) -> str:
        return f"{self.year}-{self.number:06d}"


class ReceiptCounter(Base):
    __tablename__ = "receipt_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0, comment="the last receipt number given in that year")
