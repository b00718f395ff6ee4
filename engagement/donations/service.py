"""A donation's life: opened (its amount held under the ceiling), then moved only by verified provider events.

Every event is applied at most once (``payment_events``, by the provider's event id) and every movement of money
is recorded at most once (``donation_payments``, by the provider's payment id), so a webhook replayed, duplicated
or delivered out of order changes nothing twice. Money is never refused once received: a payment that no longer
fits under the ceiling (its page expired and another gift took the room) is recorded ``over_ceiling``, not
counted, and listed for the treasurer to refund.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction
from engagement.donations import ceiling, receipts, stopped
from engagement.donations.documents import Beneficiary
from engagement.donations.models import Donation, DonationPayment, PaymentEventSeen
from engagement.payments.events import PaymentEvent

log = logging.getLogger(__name__)

MIN_CENTS = 100  # 1 €: below, the provider's fee would eat the gift
PAGE_LIFETIME = timedelta(minutes=60)  # the hosted page's life (the provider allows 30 minutes to 24 hours)
NEXT_INSTALMENT = timedelta(days=30)  # about when a monthly gift's next instalment comes
KINDS = ("gift", "membership")
ATTESTATIONS = ("national", "resident")

Outcome = Literal["applied", "duplicate", "ignored", "unknown"]


class DonationRefused(Exception):
    """A donation that the law or the rules do not allow; ``code`` says which, ``remaining_cents`` the room."""

    def __init__(self, code: str, remaining_cents: int = 0) -> None:
        super().__init__(code)
        self.code = code
        self.remaining_cents = remaining_cents


class NotYet(Exception):
    """An event about money not recorded yet (a refund delivered before its payment): the provider must deliver
    it again later, so it is not marked applied."""


@dataclass(frozen=True)
class Donor:
    first_name: str
    last_name: str
    email: str
    street: str
    postal_code: str
    city_code: str
    city_name: str
    attestation: str  # national or resident
    country: str = "FR"
    user_id: int | None = None

    @property
    def key(self) -> str:
        return ceiling.person_key(self.first_name, self.last_name, self.postal_code, self.street)


def open_donation(session: Session, donor: Donor, *, amount_cents: int, kind: str = "gift", monthly: bool = False,
                  now: datetime, locale: str = "fr") -> Donation:
    """A pending donation whose amount (a monthly gift: its first instalment) is held under the donor's ceiling;
    raises `DonationRefused` when the law or the rules refuse it. The caller commits, then opens the payment page
    (never while holding the transaction: the provider is a network call)."""
    if kind not in KINDS:
        raise ValueError(f"unknown donation kind {kind!r}")
    if donor.attestation not in ATTESTATIONS:
        raise DonationRefused("attestation")
    if amount_cents < MIN_CENTS:
        raise DonationRefused("too_small")
    year = ceiling.year_of(now)
    key = donor.key
    if amount_cents > ceiling.CEILING_CENTS or not ceiling.hold(session, key, year, amount_cents):
        raise DonationRefused("ceiling", ceiling.remaining(session, key, year))
    donation = Donation(reference=secrets.token_urlsafe(16), kind=kind, monthly=monthly, amount_cents=amount_cents,
                        status="pending", user_id=donor.user_id, first_name=donor.first_name,
                        last_name=donor.last_name, email=donor.email, locale=locale, street=donor.street,
                        postal_code=donor.postal_code, city_code=donor.city_code, city_name=donor.city_name,
                        country=donor.country, attestation=donor.attestation, ceiling_key=key, year=year,
                        held_cents=amount_cents, created_at=now, expires_at=now + PAGE_LIFETIME)
    session.add(donation)
    session.flush()
    return donation


def page_opened(session: Session, donation: Donation, session_id: str) -> None:
    donation.session_id = session_id


def page_expired(session: Session, donation: Donation, now: datetime) -> None:
    """The page's time is over (a visitor came back late): the hold goes; a payment arriving later still counts."""
    _end_pending(session, donation, "expired", now)


def by_reference(session: Session, reference: str) -> Donation | None:
    return session.scalar(select(Donation).where(Donation.reference == reference))


def expire_stale(session: Session, now: datetime, grace: timedelta = timedelta(hours=1)) -> int:
    """Pages left open past their end (their `expired` event lost): their holds go. A payment still arriving
    later is recorded all the same (``paid`` on an expired donation)."""
    stale = session.scalars(select(Donation).where(Donation.status == "pending",
                                                   Donation.expires_at < now - grace)).all()
    for donation in stale:
        _end_pending(session, donation, "expired", now)
    return len(stale)


def apply(session: Session, event: PaymentEvent, now: datetime, beneficiary: Beneficiary) -> Outcome:
    """Apply one verified provider event, at most once; raises `NotYet` for an event that must come again.
    ``beneficiary``: the financing association a receipt issued now names."""
    if session.get(PaymentEventSeen, event.id) is not None:
        return "duplicate"
    try:
        donation = _donation_of(session, event)
        if donation is None:
            log.warning("payment event %s (%s) names no donation of ours: recorded, nothing applied", event.id,
                        event.kind)
            outcome: Outcome = "unknown"
        else:
            outcome = _APPLY[event.kind](session, donation, event, now, beneficiary)
        session.add(PaymentEventSeen(event_id=event.id, kind=event.kind, outcome=outcome, received_at=now))
        session.flush()
    except IntegrityError:  # the same event (or the same money) recorded by a concurrent delivery first
        raise NotYet("applied concurrently") from None  # the caller rolls back; the next delivery is a duplicate
    return outcome


def issue_yearly(session: Session, year: int, now: datetime, beneficiary: Beneficiary) -> int:
    """Each monthly donor's receipt for ``year``: the instalments received that year under the ceiling and not
    receipted yet (run once the year is over; again later, it receipts only what came since)."""
    rows = session.scalars(select(DonationPayment).join(Donation, Donation.id == DonationPayment.donation_id)
                           .where(Donation.monthly.is_(True), DonationPayment.year == year,
                                  DonationPayment.receipt_id.is_(None), DonationPayment.over_ceiling.is_(False))
                           .order_by(DonationPayment.donation_id, DonationPayment.received_at)).all()
    by_donation: dict[int, list[DonationPayment]] = {}
    for payment in rows:
        by_donation.setdefault(payment.donation_id, []).append(payment)
    for donation_id, payments in by_donation.items():
        donation = session.get(Donation, donation_id)
        assert donation is not None  # joined above
        receipts.issue(session, donation, payments, year, now, beneficiary, yearly=True)
    return len(by_donation)


def _donation_of(session: Session, event: PaymentEvent) -> Donation | None:
    if event.reference:
        found = by_reference(session, event.reference)
        if found is not None:
            return found
    for column, value in ((Donation.session_id, event.session_id), (Donation.subscription_id, event.subscription_id)):
        if value:
            found = session.scalar(select(Donation).where(column == value))
            if found is not None:
                return found
    if event.payment_id:
        payment = _payment(session, event.payment_id)
        if payment is not None:
            return session.get(Donation, payment.donation_id)
    return None


def _payment(session: Session, payment_id: str | None) -> DonationPayment | None:
    if not payment_id:
        return None
    return session.scalar(select(DonationPayment).where(DonationPayment.payment_id == payment_id))


def _end_pending(session: Session, donation: Donation, status: str, now: datetime) -> None:
    if donation.status != "pending":
        return
    ceiling.release(session, donation.ceiling_key, donation.year, donation.held_cents)
    donation.held_cents, donation.status, donation.ended_at = 0, status, now


def _paid(session: Session, donation: Donation, event: PaymentEvent, now: datetime,
          beneficiary: Beneficiary) -> Outcome:
    if not event.payment_id or event.amount_cents <= 0 or event.currency.lower() != "eur":
        log.error("payment event %s for donation %s is not a euro payment we can record", event.id, donation.id)
        return "ignored"
    if _payment(session, event.payment_id) is not None:
        return "duplicate"  # the same money announced by another event (completed, then async succeeded)
    year = ceiling.year_of(event.occurred_at)
    if donation.held_cents and donation.year == year and donation.held_cents == event.amount_cents:
        counted = True  # the page's hold becomes the payment
        donation.held_cents = 0
    else:
        if donation.held_cents:  # held in another year, or another amount: the hold goes, the money counts
            ceiling.release(session, donation.ceiling_key, donation.year, donation.held_cents)
            donation.held_cents = 0
        counted = ceiling.hold(session, donation.ceiling_key, year, event.amount_cents)
    payment = DonationPayment(donation_id=donation.id, payment_id=event.payment_id, amount_cents=event.amount_cents,
                              received_at=event.occurred_at, year=year, over_ceiling=not counted)
    session.add(payment)
    session.flush()
    if not counted:
        log.warning("donation %s: payment %s passes the donor's ceiling: recorded, to be refunded", donation.id,
                    payment.id)
    if donation.monthly:
        if donation.status in ("pending", "expired", "failed"):
            donation.status = "active"
        _stop_before_the_ceiling(session, donation, event.occurred_at)
    else:
        donation.status, donation.ended_at = "paid", donation.ended_at or now
        if counted:
            receipts.issue(session, donation, [payment], year, now, beneficiary)
    return "applied"


def _stop_before_the_ceiling(session: Session, donation: Donation, paid_at: datetime) -> None:
    """A monthly gift whose next instalment would pass the ceiling stops now, and the donor is told (the law
    forbids the money; taking it to refund it would only cost the donor the provider's fees). The provider's
    subscription is cancelled after commit (`stops_due`, `Payments.receive`)."""
    if donation.stop_reason is not None or donation.status != "active":
        return
    year = ceiling.year_of(paid_at)
    if ceiling.year_of(paid_at + NEXT_INSTALMENT) != year:
        return  # the next one falls in a new year, with the whole ceiling again
    left = ceiling.remaining(session, donation.ceiling_key, year)
    if left >= donation.amount_cents:
        return
    donation.stop_reason = "ceiling"
    stopped.notify(session, donation, left)


def stops_due(session: Session) -> list[tuple[int, str]]:
    """Monthly gifts to stop at the provider: (donation id, subscription id), until the provider says ``ended``."""
    rows = session.execute(select(Donation.id, Donation.subscription_id)
                           .where(Donation.status == "active", Donation.stop_reason.is_not(None),
                                  Donation.subscription_id.is_not(None)))
    return [(donation_id, str(subscription)) for donation_id, subscription in rows]


def _subscribed(session: Session, donation: Donation, event: PaymentEvent, now: datetime,
                beneficiary: Beneficiary) -> Outcome:
    if event.subscription_id:
        donation.subscription_id = event.subscription_id
    if donation.status in ("pending", "expired", "failed"):
        donation.status = "active"
    return "applied"


def _expired(session: Session, donation: Donation, event: PaymentEvent, now: datetime,
             beneficiary: Beneficiary) -> Outcome:
    if donation.status != "pending":
        return "ignored"  # paid meanwhile (or already ended): the money decides, not the page
    _end_pending(session, donation, "expired", now)
    return "applied"


def _failed(session: Session, donation: Donation, event: PaymentEvent, now: datetime,
            beneficiary: Beneficiary) -> Outcome:
    if donation.status != "pending":
        return "ignored"
    _end_pending(session, donation, "failed", now)
    return "applied"


def _refunded(session: Session, donation: Donation, event: PaymentEvent, now: datetime,
              beneficiary: Beneficiary) -> Outcome:
    payment = _known_payment(session, event, "refund")
    # cumulative: a late, smaller total (events out of order) changes nothing
    return _taken_back(session, donation, payment, "refunded_cents", min(event.amount_cents, payment.amount_cents))


def _disputed(session: Session, donation: Donation, event: PaymentEvent, now: datetime,
              beneficiary: Beneficiary) -> Outcome:
    payment = _known_payment(session, event, "chargeback")
    left = payment.amount_cents - payment.refunded_cents
    return _taken_back(session, donation, payment, "disputed_cents", min(event.amount_cents or left, left))


def _known_payment(session: Session, event: PaymentEvent, what: str) -> DonationPayment:
    payment = _payment(session, event.payment_id)
    if payment is None:
        raise NotYet(f"{what} before its payment")
    return payment


def _taken_back(session: Session, donation: Donation, payment: DonationPayment, attribute: str,
                total: int) -> Outcome:
    """Money given back (refunded) or taken back (disputed), as a running total: what the total adds is no longer
    counted under the ceiling (money past the ceiling never was)."""
    before = int(getattr(payment, attribute))
    if total <= before:
        return "duplicate"
    if not payment.over_ceiling:
        ceiling.release(session, donation.ceiling_key, payment.year, total - before)
    setattr(payment, attribute, total)
    return "applied"


def _dispute_won(session: Session, donation: Donation, event: PaymentEvent, now: datetime,
                 beneficiary: Beneficiary) -> Outcome:
    payment = _known_payment(session, event, "chargeback closed")
    if not payment.disputed_cents:
        return "duplicate"
    if not payment.over_ceiling:
        ceiling.restore(session, donation.ceiling_key, payment.year, payment.disputed_cents)
    payment.disputed_cents = 0
    return "applied"


def _ended(session: Session, donation: Donation, event: PaymentEvent, now: datetime,
           beneficiary: Beneficiary) -> Outcome:
    if donation.status == "ended":
        return "duplicate"
    if donation.status == "pending":
        _end_pending(session, donation, "ended", now)
    donation.status, donation.ended_at = "ended", now
    donation.stop_reason = donation.stop_reason or "provider"
    return "applied"


_APPLY = {"paid": _paid, "subscribed": _subscribed, "expired": _expired, "failed": _failed, "refunded": _refunded,
          "disputed": _disputed, "dispute_won": _dispute_won, "ended": _ended}


def housekeeping(factory: sessionmaker[Session], now: datetime, beneficiary: Beneficiary | None) -> dict[str, int]:
    """The daily round: holds of pages left open past their end go back (their `expired` event lost), and
    last year's monthly donors get their yearly receipt (idempotent: only what is not receipted yet)."""
    with transaction(factory) as session:
        expired = expire_stale(session, now)
    receipted = 0
    if beneficiary is not None:
        with transaction(factory) as session:
            receipted = issue_yearly(session, ceiling.year_of(now) - 1, now, beneficiary)
    return {"expired": expired, "yearly_receipts": receipted}
