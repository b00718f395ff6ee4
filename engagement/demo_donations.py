"""Demonstration donations and a treasurer who logs in (``tresorier@demo.example.org``, the demo organizers'
public password) to see them: a gift paid, a monthly gift, a gift refunded, and one paid past the donor's
ceiling, waiting to be refunded. Idempotent; never loaded in production (the password is public)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.accounts.passwords import for_storage
from engagement.demo_organizers import PASSWORD
from engagement.donations import service
from engagement.donations.documents import Beneficiary
from engagement.donations.models import DonationPayment
from engagement.donations.service import Donor
from engagement.payments.events import PaymentEvent

TREASURER = "tresorier@demo.example.org"
PREFIX = "demo_"  # the demo's provider ids: payments and events the stand-in provider never made


def _donor(first: str, last: str, street: str) -> Donor:
    return Donor(first_name=first, last_name=last, email=f"{first.lower()}.{last.lower()}@demo.invalid",
                 street=street, postal_code="69001", city_code="69381", city_name="Lyon 1er Arrondissement",
                 attestation="national")


def load(session: Session, now: datetime, beneficiary: Beneficiary) -> list[str]:
    """The treasurer and the demo donations, when missing; what was created."""
    lines = []
    if session.scalar(select(User.id).where(User.email == TREASURER)) is None:
        session.add(User(email=TREASURER, first_name="Théo", last_name="Trésorier", role="treasurer",
                         password_hash=for_storage(PASSWORD), created_at=now, activated_at=now))
        lines.append(f"treasurer {TREASURER}: created")
    if session.scalar(select(DonationPayment.id).where(DonationPayment.payment_id.startswith(PREFIX))) is None:
        _donations(session, now, beneficiary)
        lines.append("demo donations: 4 donors, 6 payments (one refunded, one over the ceiling)")
    return lines or ["demo treasurer and donations: unchanged"]


def _donations(session: Session, now: datetime, beneficiary: Beneficiary) -> None:
    early = now - timedelta(days=40)
    alice, bruno = _donor("Alice", "Moreau", "4 rue Mercière"), _donor("Bruno", "Petit", "8 quai Saint-Antoine")
    chloe, denis = _donor("Chloé", "Girard", "2 place des Terreaux"), _donor("Denis", "Roche", "15 rue de la Ré")
    _paid(session, alice, 5000, early, "pi_alice", beneficiary)
    _paid(session, chloe, 2000, early, "pi_chloe_fee", beneficiary, kind="membership")
    refunded = _paid(session, bruno, 12000, early + timedelta(days=3), "pi_bruno", beneficiary)
    _event(session, "refunded", now - timedelta(days=30), beneficiary, payment_id=refunded, amount_cents=12000)
    monthly = service.open_donation(session, chloe, amount_cents=1500, monthly=True, now=early)
    _event(session, "subscribed", early, beneficiary, reference=monthly.reference, subscription_id="demo_sub_chloe")
    for n, when in enumerate((early, now - timedelta(days=10))):
        _event(session, "paid", when, beneficiary, reference=monthly.reference, subscription_id="demo_sub_chloe",
               payment_id=f"in_chloe{n}", amount_cents=1500)
    late = service.open_donation(session, denis, amount_cents=20000, now=now - timedelta(days=2))
    service.page_expired(session, late, now - timedelta(days=2))  # the page's hold goes; the money comes late
    _paid(session, denis, 750_000, now - timedelta(days=2), "pi_denis", beneficiary)
    _event(session, "paid", now - timedelta(days=1), beneficiary, reference=late.reference,
           payment_id="pi_denis_late", amount_cents=20000)  # past his 7,500 €: to refund


def _paid(session: Session, who: Donor, cents: int, when: datetime, payment_id: str, beneficiary: Beneficiary,
          kind: str = "gift") -> str:
    donation = service.open_donation(session, who, amount_cents=cents, kind=kind, now=when)
    _event(session, "paid", when, beneficiary, reference=donation.reference, payment_id=payment_id,
           amount_cents=cents)
    return PREFIX + payment_id


def _event(session: Session, kind: str, when: datetime, beneficiary: Beneficiary, **fields: object) -> None:
    if isinstance(fields.get("payment_id"), str) and not str(fields["payment_id"]).startswith(PREFIX):
        fields["payment_id"] = PREFIX + str(fields["payment_id"])
    event = PaymentEvent(id=f"{PREFIX}evt_{kind}_{fields.get('payment_id') or fields.get('reference')}",
                         kind=kind, occurred_at=when, **fields)  # type: ignore[arg-type]
    service.apply(session, event, when, beneficiary)
