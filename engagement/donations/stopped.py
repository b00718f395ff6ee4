"""The mail telling a monthly donor that their gift stopped because its next instalment would pass the ceiling."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engagement.donations.amounts import money
from engagement.donations.models import Donation
from engagement.mail import service as mail

TEMPLATE = "donation_stopped"


def notify(session: Session, donation: Donation, left_cents: int) -> None:
    locale = donation.locale if donation.locale in ("fr", "en") else "fr"
    mail.compose(session, to=[donation.email], locale=locale, template=TEMPLATE, context={
        "first_name": donation.first_name, "amount": money(donation.amount_cents, locale),
        "left": money(left_cents, locale), "ceiling": money(750_000, locale),
        "account_link": mail.absolute("/account/donations")})
