"""Stripe through its official library: hosted Checkout pages, refunds, subscriptions, verified webhooks.

Requests go out in the library's pinned API version (stripe 16: ``2026-10-28.endive``). Webhook bodies come in
the version the endpoint was registered with, so the readers below accept both shapes where Stripe moved a field
in 2025-03-31.basil: an invoice's subscription (``parent.subscription_details``, was ``subscription_details``)
and its payment (``payments``, was ``payment_intent``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe

from engagement.payments.errors import GatewayError, InvalidWebhook
from engagement.payments.events import PaymentEvent

MAX_NETWORK_RETRIES = 2
# One event type's object -> the PaymentEvent's fields (None: nothing for the ledger).
Reader = Callable[[dict[str, Any]], dict[str, Any] | None]
# Errors Stripe may answer differently a moment later: the same call (same idempotency key) can be tried again.
RETRYABLE = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


@dataclass(frozen=True)
class Checkout:
    """A hosted payment page, open until ``expires_at``."""

    session_id: str
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionState:
    """What Stripe knows of a checkout session, to reconcile a payment whose webhook was lost."""

    status: str  # open, complete, expired
    payment_status: str  # unpaid, paid, no_payment_required
    amount_total: int
    payment_id: str | None  # the payment intent (one-off) or the first invoice (monthly)
    subscription_id: str | None
    reference: str | None


class Gateway:
    """Stripe's API for donations: one client, bounded timeouts, the library's own retries."""

    def __init__(self, api_key: str, webhook_secret: str, api_base: str | None = None, timeout: float = 10.0,
                 http_client: stripe.HTTPClient | None = None) -> None:
        """``http_client``: the library's HTTP client (by default ``requests`` with ``timeout``); a developer's
        machine passes one that answers from the in-process stand-in provider (web/dev/payments.py)."""
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            api_key, base_addresses={"api": api_base} if api_base else None,
            http_client=http_client or stripe.RequestsClient(timeout=timeout), max_network_retries=MAX_NETWORK_RETRIES)

    def checkout(self, *, reference: str, amount_cents: int, monthly: bool, email: str, description: str,
                 success_url: str, cancel_url: str, expires_at: datetime, idempotency_key: str) -> Checkout:
        """A Checkout Session for a one-off gift (``payment``) or a monthly one (``subscription``)."""
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be an aware datetime")
        price: dict[str, Any] = {"currency": "eur", "unit_amount": amount_cents, "product_data": {"name": description}}
        params: dict[str, Any] = {
            "mode": "subscription" if monthly else "payment",
            "line_items": [{"price_data": price, "quantity": 1}],
            "client_reference_id": reference, "metadata": {"reference": reference},
            "customer_email": email, "locale": "fr", "payment_method_types": ["card"],
            "success_url": success_url, "cancel_url": cancel_url, "expires_at": int(expires_at.timestamp()),
        }
        if monthly:
            price["recurring"] = {"interval": "month"}
            params["subscription_data"] = {"metadata": {"reference": reference}}  # carried by every invoice
        else:
            params["payment_intent_data"] = {"metadata": {"reference": reference}}  # carried by charges, refunds
        with _translated():
            session = self.client.v1.checkout.sessions.create(params,  # type: ignore[arg-type]
                                                              {"idempotency_key": idempotency_key})
        return Checkout(session.id, str(session.url), datetime.fromtimestamp(session.expires_at, UTC))

    def session_state(self, session_id: str) -> SessionState:
        with _translated():
            session = self.client.v1.checkout.sessions.retrieve(session_id).to_dict()
        return SessionState(
            status=str(session.get("status")), payment_status=str(session.get("payment_status")),
            amount_total=int(session.get("amount_total") or 0),
            payment_id=_id(session.get("payment_intent")) or _id(session.get("invoice")),
            subscription_id=_id(session.get("subscription")), reference=_reference(session))

    def refund(self, payment_id: str, amount_cents: int | None, idempotency_key: str) -> str:
        """Refund a payment intent, or a monthly instalment's invoice (all of it when no amount); the refund id."""
        params: dict[str, Any] = {"payment_intent": self._payment_intent(payment_id)}
        if amount_cents is not None:
            params["amount"] = amount_cents
        with _translated():
            refund = self.client.v1.refunds.create(params,  # type: ignore[arg-type]
                                                   {"idempotency_key": idempotency_key})
        return refund.id

    def _payment_intent(self, payment_id: str) -> str:
        if not payment_id.startswith("in_"):
            return payment_id
        with _translated():
            invoice = self.client.v1.invoices.retrieve(payment_id, {"expand": ["payments"]}).to_dict()
        paid = [p.get("payment") or {} for p in (invoice.get("payments") or {}).get("data") or []
                if p.get("status") == "paid"]
        found = next((_id(p.get("payment_intent")) for p in paid if p.get("payment_intent")), None)
        found = found or _id(invoice.get("payment_intent"))  # API versions before 2025-03-31.basil
        if not found:
            raise GatewayError(f"invoice {payment_id} has no payment to refund", retryable=False)
        return found

    def cancel_subscription(self, subscription_id: str) -> None:
        """Stop a monthly gift now; one already canceled stays so (Stripe then answers "No such subscription")."""
        try:
            with _translated():
                self.client.v1.subscriptions.cancel(subscription_id)
        except GatewayError as exc:
            if exc.code != "resource_missing":
                raise
            with _translated():
                if self.client.v1.subscriptions.retrieve(subscription_id).status != "canceled":
                    raise exc from None

    def event(self, payload: bytes, signature: str | None) -> PaymentEvent | None:
        """The verified event, or None for a type the ledger does not read; InvalidWebhook otherwise."""
        try:
            verified = self.client.construct_event(payload, signature, self.webhook_secret)
        except stripe.SignatureVerificationError:
            raise InvalidWebhook("signature missing, forged or too old") from None
        except (ValueError, TypeError, AttributeError, KeyError):  # not UTF-8, not JSON, not an object
            raise InvalidWebhook("body is not a Stripe event") from None
        event = verified.to_dict()
        data = event.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str) or not isinstance(obj, dict):
            raise InvalidWebhook("body is not a Stripe event")
        reader = READERS.get(event["type"])
        if reader is None:
            return None
        fields = reader(obj)
        if fields is None:
            return None
        try:
            occurred_at = datetime.fromtimestamp(int(event["created"]), UTC)
        except (KeyError, TypeError, ValueError, OverflowError):
            raise InvalidWebhook("event has no creation time") from None
        return PaymentEvent(id=event["id"], occurred_at=occurred_at, currency=str(obj.get("currency") or "eur"),
                            **fields)


@contextmanager
def _translated() -> Iterator[None]:
    """Stripe's errors as GatewayError, naming the status, type, code and parameter (never the message: it may
    quote a donor's email)."""
    try:
        yield
    except stripe.StripeError as exc:
        error = exc.error
        status = exc.http_status
        kind = getattr(error, "type", None) or type(exc).__name__
        code = exc.code or getattr(error, "code", None)
        param = getattr(error, "param", None)
        retryable = isinstance(exc, RETRYABLE) or (status or 0) >= 500
        details = " ".join(part for part in (kind, code, f"(param {param})" if param else None) if part)
        raise GatewayError(f"Stripe {status or 'unreachable'}: {details}", retryable, status=status,
                           code=code) from None


def _id(value: Any) -> str | None:
    """An expandable field's id: the string, or the expanded object's ``id``."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _metadata_reference(metadata: Any) -> str | None:
    value = metadata.get("reference") if isinstance(metadata, dict) else None
    return value if isinstance(value, str) and value else None


def _reference(obj: dict[str, Any]) -> str | None:
    reference = obj.get("client_reference_id")
    return reference if isinstance(reference, str) and reference else _metadata_reference(obj.get("metadata"))


def _session_completed(session: dict[str, Any]) -> dict[str, Any] | None:
    common = {"reference": _reference(session), "session_id": session.get("id"),
              "amount_cents": int(session.get("amount_total") or 0)}
    if session.get("mode") == "subscription":
        return {"kind": "subscribed", "subscription_id": _id(session.get("subscription")), **common}
    if session.get("payment_status") != "paid":
        return None  # an asynchronous method still pending: async_payment_succeeded or _failed follows
    return {"kind": "paid", "payment_id": _id(session.get("payment_intent")), **common}


def _session_event(kind: str) -> Reader:
    def read(session: dict[str, Any]) -> dict[str, Any]:
        payment_id = None if kind == "expired" else _id(session.get("payment_intent"))
        return {"kind": kind, "reference": _reference(session), "session_id": session.get("id"),
                "payment_id": payment_id, "amount_cents": int(session.get("amount_total") or 0)}
    return read


def _invoice_paid(invoice: dict[str, Any]) -> dict[str, Any]:
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    legacy = invoice.get("subscription_details") or {}
    return {"kind": "paid", "payment_id": invoice.get("id"),
            "subscription_id": _id(parent.get("subscription")) or _id(invoice.get("subscription")),
            "reference": _metadata_reference(parent.get("metadata")) or _metadata_reference(legacy.get("metadata")),
            "amount_cents": int(invoice.get("amount_paid") or 0),
            "extra": {"billing_reason": str(invoice.get("billing_reason") or "")}}


def _charge_refunded(charge: dict[str, Any]) -> dict[str, Any]:
    # A monthly instalment's charge names its invoice only in API versions before 2025-03-31.basil.
    return {"kind": "refunded", "payment_id": _id(charge.get("invoice")) or _id(charge.get("payment_intent")),
            "reference": _metadata_reference(charge.get("metadata")),
            "amount_cents": int(charge.get("amount_refunded") or 0), "extra": {"charge": str(charge.get("id"))}}


def _dispute(kind: str) -> Reader:
    def read(dispute: dict[str, Any]) -> dict[str, Any] | None:
        if kind == "dispute_won" and dispute.get("status") != "won":
            return None
        return {"kind": kind, "payment_id": _id(dispute.get("payment_intent")),
                "amount_cents": int(dispute.get("amount") or 0),
                "extra": {"dispute": str(dispute.get("id")), "charge": str(_id(dispute.get("charge"))),
                          "reason": str(dispute.get("reason") or "")}}
    return read


def _subscription_deleted(subscription: dict[str, Any]) -> dict[str, Any]:
    reason = (subscription.get("cancellation_details") or {}).get("reason")
    return {"kind": "ended", "subscription_id": subscription.get("id"),
            "reference": _metadata_reference(subscription.get("metadata")),
            "extra": {"reason": str(reason)} if reason else {}}


READERS: dict[str, Reader] = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_event("paid"),
    "checkout.session.async_payment_failed": _session_event("failed"),
    "checkout.session.expired": _session_event("expired"),
    "invoice.paid": _invoice_paid,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute("disputed"),
    "charge.dispute.closed": _dispute("dispute_won"),
    "customer.subscription.deleted": _subscription_deleted,
}
