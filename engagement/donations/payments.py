"""Between the ledger and the payment provider: opening a donation's hosted page, reading the provider's webhooks.

The provider is never called inside a database transaction (a network call would hold the write lock): the
donation is read and committed first, the page opened, then its id recorded in a second transaction. Opening the
page twice (a double click, a retry after a timeout) sends the same idempotency key, so the provider answers with
the same page instead of a second one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction
from engagement.donations import service
from engagement.donations.documents import Beneficiary
from engagement.donations.models import Donation
from engagement.payments.errors import GatewayError, InvalidWebhook

if TYPE_CHECKING:  # the stripe library takes a third of a second to import: only where payments are taken
    from engagement.payments.stripe_gateway import Gateway

log = logging.getLogger(__name__)

PAGE_MINIMUM = timedelta(minutes=31)


class PageClosed(Exception):
    """The donation has no page to open any more: paid already, expired, failed (``status`` says which)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class PaymentUnavailable(Exception):
    """The provider could not open the page now; the donation stays pending and the visitor may try again."""


@dataclass(frozen=True)
class Payments:
    """What the platform needs to take payments: the provider, who receipts name, where the visitor comes back."""

    gateway: Gateway
    beneficiary: Beneficiary
    site_url: str
    live: bool  # False: a developer's stand-in provider (no money moves), said on every donation page

    def return_url(self, reference: str, outcome: str) -> str:
        return f"{self.site_url.rstrip('/')}/dons/{reference}?retour={outcome}"

    def open_page(self, factory: sessionmaker[Session], reference: str, now: datetime) -> str:
        """The URL of the donation's hosted payment page (opened once, the same page on a second call)."""
        with transaction(factory) as session:
            donation = service.by_reference(session, reference)
            if donation is None:
                raise PageClosed("unknown")
            if donation.status != "pending":
                raise PageClosed(donation.status)
            if donation.expires_at <= now:
                service.page_expired(session, donation, now)  # its hold goes now, not at the next sweep
                request = None
            else:
                if donation.session_id is None:  # the page lives at least 31 minutes (Stripe's minimum is 30);
                    # fixed now, so that a second click sends the very same request (the same idempotent answer)
                    donation.expires_at = max(donation.expires_at, now + PAGE_MINIMUM)
                request = _PageRequest.of(donation)
        if request is None:
            raise PageClosed("expired")
        try:
            checkout = self.gateway.checkout(
                reference=request.reference, amount_cents=request.amount_cents, monthly=request.monthly,
                email=request.email, description=request.description,
                success_url=self.return_url(request.reference, "paye"),
                cancel_url=self.return_url(request.reference, "abandon"),
                expires_at=request.expires_at, idempotency_key=f"donation-page-{request.reference}")
        except GatewayError as error:
            log.warning("donation %s: the payment page could not be opened (%s)", request.donation_id,
                        "will retry" if error.retryable else "refused")
            raise PaymentUnavailable(str(error.code or "")) from None
        with transaction(factory) as session:
            donation = session.get(Donation, request.donation_id)
            if donation is not None and donation.session_id != checkout.session_id:
                service.page_opened(session, donation, checkout.session_id)
        return checkout.url

    def receive(self, factory: sessionmaker[Session], payload: bytes, signature: str | None,
                now: datetime) -> service.Outcome:
        """Apply one webhook: ``InvalidWebhook`` for a forged or stale one (nothing read from it), `NotYet` for one
        the provider must deliver again later."""
        event = self.gateway.event(payload, signature)
        if event is None:
            return "ignored"
        with transaction(factory) as session:
            outcome = service.apply(session, event, now, self.beneficiary)
        log.info("payment event %s (%s): %s", event.id, event.kind, outcome)
        if event.subscription_id:  # only a monthly gift's event stops one (or finds one still to stop)
            self.stop_due(factory)
        return outcome

    def stop_due(self, factory: sessionmaker[Session]) -> int:
        """Cancel at the provider the monthly gifts the ledger stopped (their next instalment would pass the
        ceiling); one that fails stays due, tried again after the next event. The provider's ``ended`` event
        then closes the donation. How many were cancelled."""
        with factory() as session:
            due = service.stops_due(session)
        cancelled = 0
        for donation_id, subscription_id in due:
            try:
                self.gateway.cancel_subscription(subscription_id)
            except GatewayError as error:
                log.warning("donation %s: its subscription could not be cancelled yet (%s)", donation_id,
                            error.code or error.status)
                continue
            cancelled += 1
        return cancelled


@dataclass(frozen=True)
class _PageRequest:
    donation_id: int
    reference: str
    amount_cents: int
    monthly: bool
    email: str
    description: str
    expires_at: datetime

    @classmethod
    def of(cls, donation: Donation) -> _PageRequest:
        what = "Cotisation" if donation.kind == "membership" else "Don mensuel" if donation.monthly else "Don"
        return cls(donation.id, donation.reference, donation.amount_cents, donation.monthly, donation.email,
                   f"{what} au mouvement Engagement", donation.expires_at)


__all__ = ["InvalidWebhook", "PageClosed", "PaymentUnavailable", "Payments"]
