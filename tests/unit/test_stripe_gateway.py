"""The Stripe gateway, through the real ``stripe`` library against the loopback DevStripe."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import stripe

from engagement.payments.events import PaymentEvent
from engagement.payments.stripe_gateway import Checkout, Gateway, GatewayError, InvalidWebhook
from web.dev.payments import DevStripe, serve_dev_stripe

LOOPBACK_TIMEOUT = 30  # a loaded CI machine can stall a loopback call: these tests prove behaviour, not latency


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library waits 0.5 s and more between its retries; a few milliseconds prove the same."""
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.02)


@pytest.fixture
def fake() -> Iterator[DevStripe]:
    with serve_dev_stripe() as running:
        running.timeout_seconds = 2
        yield running


@pytest.fixture
def gateway(fake: DevStripe) -> Gateway:
    return Gateway(fake.api_key, fake.webhook_secret, api_base=fake.url, timeout=LOOPBACK_TIMEOUT)


def checkout(gateway: Gateway, *, monthly: bool = False, amount: int = 5000, key: str | None = None,
             expires_in: timedelta = timedelta(hours=2), reference: str = "don-42") -> Checkout:
    return gateway.checkout(
        reference=reference, amount_cents=amount, monthly=monthly, email="donor@example.org",
        description="Don au mouvement", success_url="https://app.test/dons/merci?session={CHECKOUT_SESSION_ID}",
        cancel_url="https://app.test/dons", expires_at=datetime.now(UTC) + expires_in,
        idempotency_key=key or f"checkout-{reference}-{time.monotonic_ns()}")


def last_event(fake: DevStripe, gateway: Gateway, back: int = 1) -> Any:
    return gateway.event(*fake.events()[-back])


def mapped(gateway: Gateway, signed: tuple[bytes, str]) -> PaymentEvent:
    event = gateway.event(*signed)
    assert event is not None
    return event


def signed_event(fake: DevStripe, kind: str, obj: dict[str, Any], created: int | None = None) -> tuple[bytes, str]:
    body = json.dumps({"id": "evt_test_1", "object": "event", "type": kind, "created": created or int(time.time()),
                       "livemode": False, "data": {"object": obj}}).encode()
    return body, fake.sign(body)


def test_one_off_paid_on_the_hosted_page(fake: DevStripe, gateway: Gateway) -> None:
    page = checkout(gateway, amount=5000)
    assert page.url == f"{fake.url}/pay/{page.session_id}" and page.session_id.startswith("cs_test_")

    answer = requests.post(page.url, data={"action": "pay"}, allow_redirects=False, timeout=LOOPBACK_TIMEOUT)

    assert answer.status_code == 303
    assert answer.headers["Location"] == f"https://app.test/dons/merci?session={page.session_id}"
    event = last_event(fake, gateway)
    assert (event.kind, event.reference, event.session_id, event.amount_cents) == ("paid", "don-42", page.session_id,
                                                                                   5000)
    assert event.payment_id.startswith("pi_") and event.occurred_at.tzinfo is UTC
    state = gateway.session_state(page.session_id)
    assert (state.status, state.payment_status, state.payment_id, state.reference) == (
        "complete", "paid", event.payment_id, "don-42")


def test_monthly_subscribed_then_each_instalment_paid(fake: DevStripe, gateway: Gateway) -> None:
    page = checkout(gateway, monthly=True, amount=1500)
    fake.pay(page.session_id)
    subscribed, first = last_event(fake, gateway, 2), last_event(fake, gateway)
    assert (subscribed.kind, subscribed.amount_cents, subscribed.reference) == ("subscribed", 1500, "don-42")
    assert subscribed.subscription_id.startswith("sub_")
    assert (first.kind, first.amount_cents, first.reference, first.subscription_id) == (
        "paid", 1500, "don-42", subscribed.subscription_id)
    assert first.payment_id.startswith("in_")
    assert gateway.session_state(page.session_id).payment_id == first.payment_id

    fake.renew(subscribed.subscription_id)

    second = last_event(fake, gateway)
    assert (second.kind, second.subscription_id, second.reference, second.amount_cents) == (
        "paid", subscribed.subscription_id, "don-42", 1500)
    assert second.payment_id not in (None, first.payment_id) and second.extra["billing_reason"] == "subscription_cycle"


def test_expired_session(fake: DevStripe, gateway: Gateway) -> None:
    page = checkout(gateway)
    fake.expire(page.session_id)
    event = last_event(fake, gateway)
    assert (event.kind, event.session_id, event.reference, event.payment_id) == (
        "expired", page.session_id, "don-42", None)
    assert gateway.session_state(page.session_id).status == "expired"


def test_refunds_are_cumulative(fake: DevStripe, gateway: Gateway) -> None:
    fake.pay(checkout(gateway, amount=5000).session_id)
    payment_id = last_event(fake, gateway).payment_id

    assert gateway.refund(payment_id, 1000, "refund-1").startswith("re_")
    partial = last_event(fake, gateway)
    gateway.refund(payment_id, None, "refund-2")
    whole = last_event(fake, gateway)

    assert (partial.kind, partial.payment_id, partial.amount_cents, partial.reference) == (
        "refunded", payment_id, 1000, "don-42")
    assert (whole.kind, whole.amount_cents) == ("refunded", 5000)
    with pytest.raises(GatewayError) as refused:
        gateway.refund(payment_id, None, "refund-3")
    assert (refused.value.retryable, refused.value.code) == (False, "charge_already_refunded")


def test_refund_of_a_monthly_instalment_names_its_invoice(fake: DevStripe, gateway: Gateway) -> None:
    fake.pay(checkout(gateway, monthly=True).session_id)
    invoice_id = last_event(fake, gateway).payment_id
    gateway.refund(invoice_id, 500, "refund-in")
    event = last_event(fake, gateway)
    assert (event.kind, event.payment_id, event.amount_cents) == ("refunded", invoice_id, 500)


def test_refund_key_replayed_refunds_once(fake: DevStripe, gateway: Gateway) -> None:
    fake.pay(checkout(gateway).session_id)
    payment_id = last_event(fake, gateway).payment_id
    first = gateway.refund(payment_id, 1000, "refund-once")
    again = gateway.refund(payment_id, 1000, "refund-once")
    assert first == again
    assert last_event(fake, gateway).amount_cents == 1000


def test_dispute_opened_then_won(fake: DevStripe, gateway: Gateway) -> None:
    fake.pay(checkout(gateway, amount=3000).session_id)
    payment_id = last_event(fake, gateway).payment_id
    dispute_id = fake.dispute(payment_id)
    opened = last_event(fake, gateway)
    fake.close_dispute(dispute_id, "won")
    won = last_event(fake, gateway)
    assert (opened.kind, opened.payment_id, opened.amount_cents, opened.extra["dispute"]) == (
        "disputed", payment_id, 3000, dispute_id)
    assert (won.kind, won.payment_id) == ("dispute_won", payment_id)
    with pytest.raises(GatewayError) as refused:
        gateway.refund(payment_id, None, "refund-disputed")
    assert refused.value.code == "charge_disputed"


def test_lost_dispute_is_not_an_event_of_ours(fake: DevStripe, gateway: Gateway) -> None:
    fake.pay(checkout(gateway).session_id)
    fake.close_dispute(fake.dispute(last_event(fake, gateway).payment_id), "lost")
    assert last_event(fake, gateway) is None


def test_cancel_subscription_ends_it_and_again_is_harmless(fake: DevStripe, gateway: Gateway) -> None:
    fake.pay(checkout(gateway, monthly=True).session_id)
    subscription_id = last_event(fake, gateway, 2).subscription_id
    gateway.cancel_subscription(subscription_id)
    ended = last_event(fake, gateway)
    gateway.cancel_subscription(subscription_id)
    assert (ended.kind, ended.subscription_id, ended.reference) == ("ended", subscription_id, "don-42")
    assert len([e for e in fake.events() if b"customer.subscription.deleted" in e[0]]) == 1
    with pytest.raises(GatewayError) as unknown:
        gateway.cancel_subscription("sub_unknown")
    assert (unknown.value.status, unknown.value.code) == (404, "resource_missing")


def test_replayed_event_keeps_its_id(fake: DevStripe, gateway: Gateway) -> None:
    fake.pay(checkout(gateway).session_id)
    body, signature = fake.events()[-1]
    assert gateway.event(body, signature) == gateway.event(body, signature)


@pytest.mark.parametrize("signature", ["forged", "missing", "empty", "stale", "garbled"])
def test_unverified_webhook_is_refused(fake: DevStripe, gateway: Gateway, signature: str) -> None:
    fake.pay(checkout(gateway).session_id)
    body, _ = fake.events()[-1]
    header = {
        "forged": DevStripe(webhook_secret="whsec_other").sign(body),
        "missing": None, "empty": "", "garbled": "t=abc,v1",
        "stale": fake.sign(body, timestamp=int(time.time()) - 301),
    }[signature]
    with pytest.raises(InvalidWebhook) as refused:
        gateway.event(body, header)
    assert b"don-42" in body and "don-42" not in str(refused.value)


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b"[1, 2]", b'{"id": "evt_1"}', b"null"])
def test_signed_body_that_is_not_an_event_is_refused(fake: DevStripe, gateway: Gateway, body: bytes) -> None:
    with pytest.raises(InvalidWebhook):
        gateway.event(body, fake.sign(body))


def test_unknown_event_type_is_none(fake: DevStripe, gateway: Gateway) -> None:
    assert gateway.event(*signed_event(fake, "customer.created", {"id": "cus_1", "object": "customer"})) is None


def test_invoice_reference_read_in_both_api_shapes(fake: DevStripe, gateway: Gateway) -> None:
    base = {"id": "in_1", "object": "invoice", "amount_paid": 900, "currency": "eur", "billing_reason": "x"}
    current = {**base, "parent": {"type": "subscription_details", "subscription_details": {
        "subscription": "sub_1", "metadata": {"reference": "don-new"}}}}
    legacy = {**base, "subscription": "sub_1", "subscription_details": {"metadata": {"reference": "don-old"}}}
    for invoice, reference in ((current, "don-new"), (legacy, "don-old")):
        event = mapped(gateway, signed_event(fake, "invoice.paid", invoice, created=1_700_000_000))
        assert (event.kind, event.payment_id, event.subscription_id, event.reference, event.amount_cents) == (
            "paid", "in_1", "sub_1", reference, 900)
        assert event.occurred_at == datetime.fromtimestamp(1_700_000_000, UTC)


def test_session_events_by_mode_and_payment_status(fake: DevStripe, gateway: Gateway) -> None:
    session = {"id": "cs_1", "object": "checkout.session", "mode": "payment", "amount_total": 2000,
               "payment_intent": "pi_1", "client_reference_id": None, "metadata": {"reference": "don-7"}}
    pending = gateway.event(*signed_event(fake, "checkout.session.completed", {**session, "payment_status": "unpaid"}))
    paid = mapped(gateway, signed_event(fake, "checkout.session.async_payment_succeeded",
                                        {**session, "payment_status": "paid"}))
    failed = mapped(gateway, signed_event(fake, "checkout.session.async_payment_failed",
                                          {**session, "payment_status": "unpaid"}))
    assert pending is None
    assert (paid.kind, paid.payment_id, paid.amount_cents, paid.reference) == ("paid", "pi_1", 2000, "don-7")
    assert (failed.kind, failed.payment_id, failed.session_id) == ("failed", "pi_1", "cs_1")


def test_idempotency_key_replays_the_same_session(fake: DevStripe, gateway: Gateway) -> None:
    expires_at = datetime.now(UTC) + timedelta(hours=1)
    args: dict[str, Any] = {"reference": "don-9", "monthly": False, "email": "donor@example.org",
                            "description": "Don", "success_url": "https://app.test/ok", "cancel_url": "https://app.test/",
                            "expires_at": expires_at, "idempotency_key": "checkout-don-9"}
    first = gateway.checkout(amount_cents=5000, **args)
    again = gateway.checkout(amount_cents=5000, **args)
    assert first == again
    with pytest.raises(GatewayError) as conflict:
        gateway.checkout(amount_cents=6000, **args)
    assert (conflict.value.status, conflict.value.retryable) == (400, False)


def test_wrong_api_key_is_not_retryable(fake: DevStripe) -> None:
    gateway = Gateway("sk_test_wrong", fake.webhook_secret, api_base=fake.url, timeout=LOOPBACK_TIMEOUT)
    with pytest.raises(GatewayError) as refused:
        checkout(gateway)
    assert (refused.value.status, refused.value.retryable) == (401, False)


@pytest.mark.parametrize(("amount", "expires_in", "param"), [
    (49, timedelta(hours=1), "line_items"),
    (5000, timedelta(minutes=10), "expires_at"),
    (5000, timedelta(hours=25), "expires_at"),
])
def test_invalid_checkout_names_the_param(gateway: Gateway, amount: int, expires_in: timedelta, param: str) -> None:
    with pytest.raises(GatewayError) as refused:
        checkout(gateway, amount=amount, expires_in=expires_in)
    assert (refused.value.status, refused.value.retryable) == (400, False)
    assert f"(param {param})" in str(refused.value) and "donor@" not in str(refused.value)


def test_unknown_session_is_404(gateway: Gateway) -> None:
    with pytest.raises(GatewayError) as missing:
        gateway.session_state("cs_test_unknown")
    assert (missing.value.status, missing.value.code, missing.value.retryable) == (404, "resource_missing", False)


def test_server_error_then_success_thanks_to_the_library_retry(fake: DevStripe, gateway: Gateway) -> None:
    fake.fail_next("500")
    page = checkout(gateway, key="checkout-after-500")
    stored = fake.get(page.session_id)
    assert stored is not None and stored["status"] == "open"


def test_rate_limit_is_retryable(fake: DevStripe, gateway: Gateway) -> None:
    fake.fail_next("429")
    with pytest.raises(GatewayError) as limited:
        checkout(gateway)
    assert (limited.value.status, limited.value.retryable) == (429, True)
    assert checkout(gateway).session_id


def test_timeout_is_retryable(fake: DevStripe) -> None:
    gateway = Gateway(fake.api_key, fake.webhook_secret, api_base=fake.url, timeout=0.3)
    fake.fail_next("timeout", times=3)  # the first call and the library's two retries
    with pytest.raises(GatewayError) as lost:
        gateway.session_state("cs_test_any")
    assert lost.value.retryable and lost.value.status is None


def test_unreachable_stripe_is_retryable() -> None:
    gateway = Gateway("sk_test_dev", "whsec_dev", api_base="http://127.0.0.1:9", timeout=1)
    with pytest.raises(GatewayError) as lost:
        gateway.session_state("cs_test_any")
    assert lost.value.retryable


def test_naive_expiry_is_refused(gateway: Gateway) -> None:
    with pytest.raises(ValueError, match="aware"):
        gateway.checkout(reference="r", amount_cents=5000, monthly=False, email="donor@example.org", description="Don",
                         success_url="https://app.test/ok", cancel_url="https://app.test/",
                         expires_at=datetime.now() + timedelta(hours=1), idempotency_key="naive")
