"""DevStripe, the fake Stripe, behaves like Stripe's API and hosted page, proven through the real library."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe

from engagement.payments.stripe_gateway import Gateway
from web.dev.payments import DevStripe, euros, parse_form, serve_dev_stripe

LOOPBACK_TIMEOUT = 30  # a loaded CI machine can stall a loopback call: these tests prove behaviour, not latency


class Receiver:
    """A loopback webhook endpoint: records ``(body, Stripe-Signature)``; answers 503 while ``down`` > 0."""

    def __init__(self) -> None:
        self.received: queue.Queue[tuple[bytes, str]] = queue.Queue()
        self.down = 0
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.down > 0:
                    receiver.down -= 1
                    receiver.refused += 1
                    self.send_response(503)
                else:
                    receiver.received.put((body, self.headers["Stripe-Signature"]))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def take(self, count: int) -> list[tuple[bytes, str]]:
        return [self.received.get(timeout=LOOPBACK_TIMEOUT) for _ in range(count)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def fake() -> Iterator[DevStripe]:
    with serve_dev_stripe() as running:
        yield running


@pytest.fixture
def client(fake: DevStripe) -> stripe.StripeClient:
    return stripe.StripeClient(fake.api_key, base_addresses={"api": fake.url},
                               http_client=stripe.RequestsClient(timeout=LOOPBACK_TIMEOUT))


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment", "success_url": "https://app.test/ok?s={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://app.test/cancel", "customer_email": "donor@example.org", "locale": "fr",
        "client_reference_id": "don-1", "metadata": {"reference": "don-1"},
        "line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 5000,
                                                      "product_data": {"name": "Don au mouvement"}}}],
        "expires_at": int(time.time()) + 3600,
    }
    params.update(overrides)
    return params


def monthly_params() -> dict[str, Any]:
    params = session_params(mode="subscription", subscription_data={"metadata": {"reference": "don-1"}})
    params["line_items"][0]["price_data"]["recurring"] = {"interval": "month"}
    return params


def create(client: stripe.StripeClient, params: dict[str, Any]) -> Any:
    return client.v1.checkout.sessions.create(params)  # type: ignore[arg-type]


def types(fake: DevStripe) -> list[str]:
    return [json.loads(body)["type"] for body, _ in fake.events()]


def test_form_keys_nest_as_stripe_encodes_them() -> None:
    assert parse_form([("line_items[0][price_data][unit_amount]", "5000"), ("line_items[1][quantity]", "2"),
                       ("metadata[reference]", "r"), ("mode", "payment")]) == {
        "line_items": [{"price_data": {"unit_amount": "5000"}}, {"quantity": "2"}],
        "metadata": {"reference": "r"}, "mode": "payment"}


def test_french_amounts() -> None:
    assert [euros(5000), euros(5), euros(400_000)] == ["50,00\u00a0€", "0,05\u00a0€", "4\u202f000,00\u00a0€"]


def test_signature_is_stripes_own() -> None:
    fake = DevStripe(webhook_secret="whsec_x")
    body = b'{"id": "evt_1"}'
    assert fake.sign(body, 1_700_000_000) == stripe.WebhookSignature.generate_signature_header(
        body.decode(), "whsec_x", timestamp=1_700_000_000)


def test_session_shaped_like_stripes(client: stripe.StripeClient, fake: DevStripe) -> None:
    session = create(client, session_params())
    assert session.id.startswith("cs_test_") and session.object == "checkout.session"
    assert (session.status, session.payment_status, session.amount_total, session.currency) == (
        "open", "unpaid", 5000, "eur")
    assert (session.livemode, session.url) == (False, f"{fake.url}/pay/{session.id}")
    assert "_line_items" not in client.v1.checkout.sessions.retrieve(session.id).to_dict()


def test_hosted_page_shows_the_amount_and_three_buttons(client: stripe.StripeClient) -> None:
    once = requests.get(create(client, session_params()).url, timeout=LOOPBACK_TIMEOUT)
    monthly = requests.get(create(client, monthly_params()).url, timeout=LOOPBACK_TIMEOUT)
    assert once.status_code == 200 and "50,00\u00a0€" in once.text and "par mois" not in once.text
    assert "50,00\u00a0€ par mois" in monthly.text
    for label in ("Payer", "Refuser la carte", "Abandonner"):
        assert label in once.text


def test_declined_card_shows_the_page_again_and_emits_nothing(client: stripe.StripeClient, fake: DevStripe) -> None:
    session = create(client, session_params())
    declined = requests.post(session.url, data={"action": "decline"}, timeout=LOOPBACK_TIMEOUT)
    assert declined.status_code == 200 and "Votre carte a été refusée" in declined.text and "Payer" in declined.text
    assert fake.events() == []
    failed = fake.get(str(client.v1.checkout.sessions.retrieve(session.id).payment_intent))
    assert failed is not None and failed["last_payment_error"]["code"] == "card_declined"
    fake.pay(session.id)  # another card
    assert types(fake) == ["checkout.session.completed"]


def test_abandon_goes_back_to_cancel_url(client: stripe.StripeClient, fake: DevStripe) -> None:
    session = create(client, session_params())
    answer = requests.post(session.url, data={"action": "abandon"}, allow_redirects=False, timeout=LOOPBACK_TIMEOUT)
    assert (answer.status_code, answer.headers["Location"]) == (303, "https://app.test/cancel")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open" and fake.events() == []


def test_paid_session_cannot_be_paid_twice(client: stripe.StripeClient, fake: DevStripe) -> None:
    session = create(client, session_params())
    paid = requests.post(session.url, data={"action": "pay"}, allow_redirects=False, timeout=LOOPBACK_TIMEOUT)
    again = requests.post(session.url, data={"action": "pay"}, allow_redirects=False, timeout=LOOPBACK_TIMEOUT)
    assert paid.status_code == 303 and again.status_code == 410 and "déjà été payée" in again.text
    assert types(fake) == ["checkout.session.completed"]
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.url) == ("complete", "paid", None)
    intent = fake.get(str(done.payment_intent))
    assert intent is not None and intent["metadata"] == {} and intent["status"] == "succeeded"


def test_monthly_payment_creates_subscription_and_first_invoice(client: stripe.StripeClient, fake: DevStripe) -> None:
    session = create(client, monthly_params())
    fake.pay(session.id)
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert types(fake) == ["checkout.session.completed", "invoice.paid"]
    subscription = client.v1.subscriptions.retrieve(str(done.subscription))
    assert (subscription.status, subscription.metadata.to_dict()) == ("active", {"reference": "don-1"})
    invoice = client.v1.invoices.retrieve(str(done.invoice))
    assert "payments" not in invoice.to_dict()  # "includable": only when expanded
    expanded = client.v1.invoices.retrieve(str(done.invoice), {"expand": ["payments"]}).to_dict()
    assert expanded["payments"]["data"][0]["payment"]["payment_intent"] == expanded["payment_intent"]
    assert expanded["parent"]["subscription_details"]["subscription"] == subscription.id


def test_expire_through_the_api(client: stripe.StripeClient, fake: DevStripe) -> None:
    session = create(client, session_params())
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, types(fake)) == ("expired", ["checkout.session.expired"])
    assert requests.get(session.url, timeout=LOOPBACK_TIMEOUT).status_code == 410
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)


def test_session_past_its_expiry_expires_when_read(client: stripe.StripeClient, fake: DevStripe) -> None:
    session = create(client, session_params())
    fake.clock = lambda: time.time() + 3601
    page = requests.get(session.url, timeout=LOOPBACK_TIMEOUT)
    assert page.status_code == 410 and "a expiré" in page.text
    assert types(fake) == ["checkout.session.expired"]
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


@pytest.mark.parametrize(("overrides", "param"), [
    ({"mode": None}, "mode"),
    ({"colour": "red"}, "colour"),
    ({"success_url": "not a url"}, "success_url"),
    ({"customer_email": "nobody"}, "customer_email"),
    ({"expires_at": int(time.time()) + 600}, "expires_at"),
    ({"subscription_data": {"metadata": {"reference": "x"}}}, "subscription_data"),
    ({"line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 5000, "product_data": {
        "name": "Don"}, "recurring": {"interval": "month"}}}]}, "line_items[0][price_data][recurring]"),
    ({"line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 49, "product_data": {
        "name": "Don"}}}]}, "line_items"),
    ({"line_items": [{"price_data": {"currency": "eur", "unit_amount": 500, "product_data": {
        "name": "Don"}}}]}, "line_items[0][quantity]"),
])
def test_invalid_session_is_400_naming_the_param(client: stripe.StripeClient, overrides: dict[str, Any],
                                                 param: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        create(client, session_params(**overrides))
    assert (refused.value.http_status, refused.value.param) == (400, param)


def test_subscription_mode_needs_a_recurring_price(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        create(client, session_params(mode="subscription"))
    assert refused.value.param == "line_items"


def test_unauthorised_and_unknown_answers_in_stripes_shape(fake: DevStripe) -> None:
    anonymous = requests.get(f"{fake.url}/v1/checkout/sessions/cs_test_x", timeout=LOOPBACK_TIMEOUT)
    missing = requests.get(f"{fake.url}/v1/invoices/in_x", headers={"Authorization": f"Bearer {fake.api_key}"},
                           timeout=LOOPBACK_TIMEOUT)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["type"] == "invalid_request_error"
    assert missing.status_code == 404
    assert missing.json()["error"] == {"type": "invalid_request_error", "message": "No such invoice: 'in_x'",
                                       "param": "id", "code": "resource_missing"}


def test_idempotency_key_replays_or_refuses(fake: DevStripe) -> None:
    headers = {"Authorization": f"Bearer {fake.api_key}", "Idempotency-Key": "key-1", "Stripe-Version": "2024-06-20"}
    body = ("mode=payment&success_url=https://app.test/ok&line_items[0][quantity]=1"
            "&line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=5000"
            "&line_items[0][price_data][product_data][name]=Don")
    url = f"{fake.url}/v1/checkout/sessions"
    first = requests.post(url, data=body, headers=headers, timeout=LOOPBACK_TIMEOUT)
    again = requests.post(url, data=body, headers=headers, timeout=LOOPBACK_TIMEOUT)
    other = requests.post(url, data=body.replace("5000", "6000"), headers=headers, timeout=LOOPBACK_TIMEOUT)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true" and first.headers["Stripe-Version"] == "2024-06-20"
    assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"


def test_fault_kinds_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        DevStripe().fail_next("502")


def test_webhooks_delivered_in_order_signed_and_retried(receiver: Receiver) -> None:
    receiver.down = 2
    with serve_dev_stripe(webhook_url=receiver.url) as fake:
        fake.retry_delays = (0.01,)
        gateway = Gateway(fake.api_key, fake.webhook_secret, api_base=fake.url, timeout=LOOPBACK_TIMEOUT)
        once = gateway.checkout(reference="don-1", amount_cents=5000, monthly=False, email="donor@example.org",
                                description="Don", success_url="https://app.test/ok", cancel_url="https://app.test/",
                                expires_at=datetime.now(UTC) + timedelta(hours=1), idempotency_key="k-1")
        monthly = gateway.checkout(reference="don-2", amount_cents=1000, monthly=True, email="donor@example.org",
                                   description="Don", success_url="https://app.test/ok",
                                   cancel_url="https://app.test/", expires_at=datetime.now(UTC) + timedelta(hours=1),
                                   idempotency_key="k-2")
        fake.pay(once.session_id)
        fake.pay(monthly.session_id)
        delivered = receiver.take(3)
        assert fake.wait_delivered(LOOPBACK_TIMEOUT)
        assert [body for body, _ in delivered] == [body for body, _ in fake.events()]
        events = [gateway.event(body, signature) for body, signature in delivered]
        kinds = [(e.kind, e.reference) if e else None for e in events]
        assert kinds == [("paid", "don-1"), ("subscribed", "don-2"), ("paid", "don-2")]
        assert receiver.refused == 2


def test_two_instances_share_one_state_file(tmp_path: Path, receiver: Receiver) -> None:
    path = str(tmp_path / "stripe.sqlite3")
    with serve_dev_stripe(state_path=path, webhook_url=receiver.url) as first, \
            serve_dev_stripe(state_path=path, webhook_url=receiver.url, public_url="http://pay.test") as second:
        client = stripe.StripeClient(first.api_key, base_addresses={"api": first.url},
                                     http_client=stripe.RequestsClient(timeout=LOOPBACK_TIMEOUT))
        session = create(client, session_params())
        page = requests.post(f"{second.url}/pay/{session.id}", data={"action": "pay"}, allow_redirects=False,
                             timeout=LOOPBACK_TIMEOUT)
        assert page.status_code == 303
        assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"
        assert first.events() == second.events() and len(first.events()) == 1
        second.expire(create(client, session_params()).id)
        delivered = receiver.take(2)
        assert first.wait_delivered(LOOPBACK_TIMEOUT) and second.wait_delivered(LOOPBACK_TIMEOUT)
        assert [body for body, _ in delivered] == [body for body, _ in first.events()]
        assert receiver.received.empty()  # each event once, although both instances deliver
