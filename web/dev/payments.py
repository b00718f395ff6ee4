"""A fake Stripe for tests, benchmarks and a developer's machine: the part of the API our gateway uses.

``DevStripe`` is a werkzeug WSGI app driven by the real ``stripe`` library (``base_addresses={"api": url}``)::

    with serve_dev_stripe() as fake:
        gateway = Gateway(fake.api_key, fake.webhook_secret, api_base=fake.url)
        checkout = gateway.checkout(...)       # POST /v1/checkout/sessions
        fake.pay(checkout.session_id)          # or an HTTP POST to checkout.url with action=pay
        body, signature = fake.events()[-1]
        gateway.event(body, signature)         # -> PaymentEvent(kind="paid", ...)

State lives in a stdlib ``sqlite3`` database (``state_path``): ``":memory:"`` by default, or a file shared by
every process serving the fake (gunicorn workers; WAL and a busy timeout). Stripe objects are JSON blobs keyed
by id; keys starting with ``_`` are the fake's own and never leave it.

API (``Authorization: Bearer <api_key>``, else 401; form-encoded bodies with nested keys; ``Stripe-Version``
accepted and echoed; errors as ``{"error": {"type", "message", "param", "code"}}``, 400 for a missing or invalid
param, 404 ``resource_missing`` for an unknown id in the path):

* ``POST /v1/checkout/sessions``: modes ``payment`` and ``subscription`` with ``line_items[].price_data``
  (``recurring`` in subscription mode only), validated as Stripe does what we send: unknown params, URLs,
  a total of at least 50 cents in EUR, ``expires_at`` 30 minutes to 24 hours ahead, metadata limits.
* ``GET /v1/checkout/sessions/{id}``, ``POST /v1/checkout/sessions/{id}/expire`` (open sessions only).
* ``POST /v1/refunds`` (``payment_intent`` or ``charge``, optional ``amount``: at most what is left).
* ``GET /v1/invoices/{id}``: with the pre-2025 ``payment_intent`` field, and ``payments`` when expanded.
* ``GET /v1/subscriptions/{id}``, ``DELETE /v1/subscriptions/{id}`` (a canceled one answers 404, as Stripe).

``Idempotency-Key`` on a POST: the same key with the same body replays the stored answer (``Idempotent-Replayed:
true``); with another body, 400 ``idempotency_error``. Only successful answers are stored, as on Stripe.

Hosted page: ``GET /pay/{session_id}`` shows the amount ("50,00 €", "par mois"; U+00A0 before the sign, as
Babel writes French) and three buttons posting ``action=pay|decline|abandon`` to the same address: pay completes
the session and redirects (303) to ``success_url`` (``{CHECKOUT_SESSION_ID}`` replaced); decline shows the page
again ("Votre carte a été refusée") and records a failed payment intent, without webhook; abandon redirects to
``cancel_url``. An expired or completed session answers 410. An open session past its ``expires_at`` expires
when next read (and emits ``checkout.session.expired``).

Events: ``checkout.session.completed``, ``checkout.session.expired``, ``invoice.paid``, ``charge.refunded``,
``charge.dispute.created``, ``charge.dispute.closed``, ``customer.subscription.deleted``. Each is stored signed
(``Stripe-Signature: t=...,v1=...``) and, with ``webhook_url``, POSTed there in order by a background thread,
signed afresh at each attempt and retried with a growing delay (``retry_delays``) until answered 2xx. With
several processes on one file, one delivers at a time (a lease on the oldest undelivered event).

Test-facing API: ``pay(session_id)``, ``decline(session_id)``, ``expire(session_id)``, ``renew(subscription_id)``
(the next month's paid invoice), ``dispute(payment_id)`` (``pi_``, ``in_`` or ``ch_``),
``close_dispute(dispute_id, status="won")``, ``events()`` (``(body, signature)`` pairs, oldest first),
``sign(body, timestamp=None)``, ``get(object_id)``, ``wait_delivered(timeout)``, ``clock`` (Stripe's time: a
test moves it to expire sessions), ``fail_next(kind, times=1)`` (``"500"``, ``"429"``, or ``"timeout"``: sleeps
``timeout_seconds`` then closes the connection; consumed by API calls only, per process), and ``url`` once served
by ``serve_dev_stripe(**kwargs)``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import socket
import sqlite3
import string
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

FAULT_KINDS = frozenset({"500", "429", "timeout"})
API_VERSION = "2026-10-28.endive"
MIN_CENTS = {"eur": 50}  # Stripe's minimum charge amount; only EUR is used here
LOCALES = frozenset({"auto", "fr", "en", "de", "es", "it", "nl", "pt"})
METHOD_TYPES = frozenset({"card", "sepa_debit", "link", "paypal"})
SESSION_PARAMS = frozenset({"mode", "line_items", "client_reference_id", "metadata", "customer_email", "locale",
                            "payment_method_types", "success_url", "cancel_url", "expires_at", "subscription_data",
                            "payment_intent_data", "expand"})
MONTH = 30 * 86400
SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    body BLOB NOT NULL, signature TEXT NOT NULL, delivered INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL
    DEFAULT 0, claimed_by TEXT, claimed_until REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
    body TEXT NOT NULL);
"""


class StripeError(Exception):
    """An API error answered in Stripe's shape."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def body(self) -> dict[str, Any]:
        error = {"type": self.kind, "message": self.message, "param": self.param, "code": self.code}
        return {"error": {k: v for k, v in error.items() if v is not None}}


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))


def euros(cents: int) -> str:
    """5000 -> "50,00 €" (U+202F between thousands, U+00A0 before the sign)."""
    return f"{cents // 100:,}".replace(",", "\u202f") + f",{cents % 100:02d}\u00a0€"


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's nested form keys (``a[b][0][c]=v``) as dicts, and lists where every key is an index."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        if not parts:
            continue
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise StripeError(400, f"Invalid parameter: {key}", param=key)
            node = child
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _lists(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def _integer(params: dict[str, Any], key: str, param: str, minimum: int = 0) -> int:
    raw = params.get(key)
    if raw is None:
        raise StripeError(400, f"Missing required param: {param}.", param=param)
    if not isinstance(raw, str) or not re.fullmatch(r"-?\d+", raw) or int(raw) < minimum:
        raise StripeError(400, f"Invalid integer: {raw}" if minimum <= 0 else "Invalid positive integer", param=param)
    return int(raw)


def _check_url(params: dict[str, Any], key: str, required: bool) -> str | None:
    value = params.get(key)
    if value is None and not required:
        return None
    if value is None:
        raise StripeError(400, f"Missing required param: {key}.", param=key)
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StripeError(400, "Not a valid URL", param=key)
    return str(value)


def _check_metadata(value: Any, param: str) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict) or len(value) > 50:
        raise StripeError(400, "Invalid metadata: must be a hash of at most 50 keys", param=param)
    for key, item in value.items():
        if len(key) > 40 or not isinstance(item, str) or len(item) > 500:
            raise StripeError(400, "Metadata keys hold at most 40 characters, values at most 500",
                              param=f"{param}[{key}]")
    return {k: v for k, v in value.items() if v != ""}


def _only(params: Any, allowed: set[str], param: str) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise StripeError(400, "Invalid object", param=param)
    for key in params:
        if key not in allowed:
            name = f"{param}[{key}]" if param else key
            raise StripeError(400, f"Received unknown parameter: {name}", param=name)
    return params


class _Store:
    """The fake's sqlite database; one connection per process (reopened after a fork), one writer at a time."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        self._pid = -1
        self._db: sqlite3.Connection | None = None

    def db(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            db.execute("PRAGMA busy_timeout=10000")
            if self.path != ":memory:":
                db.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer in another process
            db.executescript(SCHEMA)
            self._db, self._pid = db, os.getpid()
        return self._db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            db = self.db()
            db.execute("BEGIN IMMEDIATE")  # take the write lock first: no deadlock between processes
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        with self.lock:
            if self._db is not None and self._pid == os.getpid():
                self._db.close()
            self._db = None


class DevStripe:
    """The fake Stripe: a WSGI app over a sqlite state, with a test-facing Python API."""

    def __init__(self, api_key: str = "sk_test_dev", webhook_secret: str = "whsec_dev",  # noqa: S107  # nosec B107 - a fake's
                 state_path: str = ":memory:", webhook_url: str | None = None, public_url: str = "",
                 deliver: Callable[[bytes, str], bool] | None = None) -> None:
        """``deliver``, instead of ``webhook_url``: a function handed each signed event (its body and
        ``Stripe-Signature``) that says whether it was taken, for an app that hosts the fake itself."""
        if webhook_url and urlsplit(webhook_url).scheme not in ("http", "https"):
            raise ValueError("webhook_url is an http(s) URL")
        self.deliver = deliver
        self.api_key, self.webhook_secret = api_key, webhook_secret
        self.webhook_url, self.public_url = webhook_url, public_url.rstrip("/")
        self.url = ""
        self.timeout_seconds = 3.0
        self.clock: Callable[[], float] = time.time  # Stripe's time; tests move it (signatures keep real time)
        self.retry_delays: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
        self.store = _Store(state_path)
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._delivered = threading.Condition()
        self._deliverer: threading.Thread | None = None
        self._deliverer_pid = -1
        self._owner = new_id("dlv_")
        self._routes = Map([
            Rule("/v1/checkout/sessions", methods=["POST"], endpoint="create_session"),
            Rule("/v1/checkout/sessions/<sid>", methods=["GET"], endpoint="get_session"),
            Rule("/v1/checkout/sessions/<sid>/expire", methods=["POST"], endpoint="expire_session"),
            Rule("/v1/refunds", methods=["POST"], endpoint="create_refund"),
            Rule("/v1/invoices/<sid>", methods=["GET"], endpoint="get_invoice"),
            Rule("/v1/subscriptions/<sid>", methods=["GET"], endpoint="get_subscription"),
            Rule("/v1/subscriptions/<sid>", methods=["DELETE"], endpoint="cancel_subscription"),
            Rule("/pay/<sid>", methods=["GET", "POST"], endpoint="page"),
        ])

    # -- test-facing API -----------------------------------------------------------------------

    def pay(self, session_id: str) -> dict[str, Any]:
        """Complete an open session as the hosted page's Pay button does; the session."""
        with self.store.transaction():
            return self._complete(self._open_session(session_id))

    def decline(self, session_id: str) -> str:
        """A refused card on an open session: a failed payment intent, no webhook; its id."""
        with self.store.transaction():
            return self._decline(self._open_session(session_id))

    def expire(self, session_id: str) -> dict[str, Any]:
        with self.store.transaction():
            return self._expire(self._open_session(session_id))

    def renew(self, subscription_id: str) -> str:
        """The next month of an active subscription: a paid invoice and its ``invoice.paid``; the invoice id."""
        with self.store.transaction():
            subscription = self._object(subscription_id, "subscription")
            if subscription["status"] != "active":
                raise StripeError(400, f"Subscription {subscription_id} is {subscription['status']}")
            return str(self._invoice(subscription, "subscription_cycle")["id"])

    def dispute(self, payment_id: str) -> str:
        """A chargeback on a payment (``pi_``, ``in_`` or ``ch_``): ``charge.dispute.created``; the dispute id."""
        with self.store.transaction():
            charge = self._charge_of(payment_id, "payment_id")
            dispute = self._put({"id": new_id("dp_"), "object": "dispute", "amount": charge["amount"],
                                 "charge": charge["id"], "payment_intent": charge["payment_intent"],
                                 "currency": charge["currency"], "reason": "fraudulent", "status": "needs_response",
                                 "metadata": {}, **self._stamp()})
            self._put({**charge, "disputed": True})
            self._emit("charge.dispute.created", dispute)
            return str(dispute["id"])

    def close_dispute(self, dispute_id: str, status: str = "won") -> None:
        if status not in ("won", "lost"):
            raise ValueError("status is won or lost")
        with self.store.transaction():
            dispute = self._put({**self._object(dispute_id, "dispute"), "status": status})
            self._emit("charge.dispute.closed", dispute)

    def events(self) -> list[tuple[bytes, str]]:
        with self.store.lock:
            rows = self.store.db().execute("SELECT body, signature FROM events ORDER BY seq").fetchall()
        return [(bytes(body), signature) for body, signature in rows]

    def get(self, object_id: str) -> dict[str, Any] | None:
        """A stored object as the API shows it (None when unknown)."""
        with self.store.lock:
            found = self._load(object_id)
        return _public(found) if found else None

    def sign(self, body: bytes, timestamp: int | None = None) -> str:
        """``Stripe-Signature`` for ``body`` as Stripe computes it (now, unless ``timestamp``)."""
        stamp = int(time.time()) if timestamp is None else timestamp
        digest = hmac.new(self.webhook_secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={stamp},v1={digest}"

    def fail_next(self, kind: str, times: int = 1) -> None:
        """Queue ``times`` faults of ``kind`` for the next API calls of this process."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        with self._lock:
            self._faults.extend([kind] * times)

    def wait_delivered(self, timeout: float = 5.0) -> bool:
        """Wait until every stored event reached ``webhook_url``; False when some are still pending."""
        deadline = time.monotonic() + timeout
        with self._delivered:
            while self._pending():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._delivered.wait(min(left, 0.05))  # another process may deliver: poll as well
        return True

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._deliverer is not None:
            self._deliverer.join(timeout=5)
        self.store.close()

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        self._ensure_deliverer()
        try:
            endpoint, args = self._routes.bind_to_environ(environ).match()
        except Exception:  # werkzeug's NotFound or MethodNotAllowed
            response = self._json(404, StripeError(404, "Unrecognized request URL", kind="invalid_request_error")
                                  .body(), request)
            return response(environ, start_response)
        if endpoint == "page":
            response = self._page(request, args["sid"])
        else:
            response = self._api(request, endpoint, args.get("sid"))
        return response(environ, start_response)

    def _api(self, request: Request, endpoint: str, sid: str | None) -> Response:
        if request.headers.get("Authorization", "") != f"Bearer {self.api_key}":
            return self._json(401, StripeError(401, "Invalid API Key provided.").body(), request)
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault == "timeout":
            return self._drop(request)
        if fault == "500":
            return self._json(500, StripeError(500, "Injected server error", kind="api_error").body(), request)
        if fault == "429":
            return self._json(429, StripeError(429, "Too many requests", code="rate_limit").body(), request)
        raw = request.get_data()
        try:
            source = raw.decode() if request.method == "POST" else request.query_string.decode()
            params = parse_form(parse_qsl(source, keep_blank_values=True))
            with self.store.transaction() as db:
                return self._idempotent(db, request, raw, lambda: getattr(self, f"_{endpoint}")(params, sid))
        except StripeError as exc:
            return self._json(exc.status, exc.body(), request)
        except UnicodeDecodeError:
            return self._json(400, StripeError(400, "Invalid request body").body(), request)

    def _idempotent(self, db: sqlite3.Connection, request: Request, raw: bytes,
                    handle: Callable[[], dict[str, Any]]) -> Response:
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        fingerprint = hashlib.sha256(f"{request.method} {request.path} ".encode() + raw).hexdigest()
        if key:
            row = db.execute("SELECT fingerprint, status, body FROM idempotency WHERE key = ?", (key,)).fetchone()
            if row and row[0] != fingerprint:
                raise StripeError(400, "Keys for idempotent requests can only be used with the same parameters they "
                                       "were first used with.", kind="idempotency_error")
            if row:
                return self._json(row[1], json.loads(row[2]), request, {"Idempotent-Replayed": "true"})
        payload = handle()
        if key:
            db.execute("INSERT INTO idempotency VALUES (?, ?, ?, ?)", (key, fingerprint, 200, json.dumps(payload)))
        return self._json(200, payload, request)

    def _json(self, status: int, payload: Any, request: Request, headers: dict[str, str] | None = None) -> Response:
        response = Response(json.dumps(payload, indent=2), status=status, mimetype="application/json")
        response.headers["Request-Id"] = new_id("req_")
        response.headers["Stripe-Version"] = request.headers.get("Stripe-Version", API_VERSION)
        response.headers.update(headers or {})
        return response

    def _drop(self, request: Request) -> Response:
        """The injected timeout: no answer, then the connection closes (a 504 where the socket is out of reach)."""
        self._stopping.wait(self.timeout_seconds)
        sock = request.environ.get("werkzeug.socket") or request.environ.get("gunicorn.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        return Response("", status=504)

    # -- API handlers (inside the store's transaction) -----------------------------------------

    def _create_session(self, params: dict[str, Any], _sid: None) -> dict[str, Any]:
        mode, own = self._check_session(params)
        items, currency, total = self._line_items(params.get("line_items"), mode)
        sid = new_id("cs_test_")
        return self._put({
            "id": sid, "object": "checkout.session", "mode": mode, "status": "open", "payment_status": "unpaid",
            "currency": currency, "amount_subtotal": total, "amount_total": total, "ui_mode": "hosted",
            "client_reference_id": params.get("client_reference_id"), "customer": None,
            "customer_email": params.get("customer_email"), "customer_details": None,
            "expires_at": int(params.get("expires_at") or self.clock() + 86400), "locale": params.get("locale"),
            "metadata": _check_metadata(params.get("metadata"), "metadata"), "payment_intent": None,
            "payment_method_types": params.get("payment_method_types", ["card"]), "subscription": None,
            "invoice": None, "success_url": params["success_url"], "cancel_url": params.get("cancel_url"),
            "url": f"{self.public_url}/pay/{sid}", **self._stamp(),
            "_line_items": items, "_metadata": _check_metadata(own.get("metadata"), "metadata"),
        })

    def _check_session(self, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The mode and its own options (``payment_intent_data`` or ``subscription_data``), once all is checked."""
        _only(params, set(SESSION_PARAMS), "")
        mode = params.get("mode")
        if mode is None:
            raise StripeError(400, "Missing required param: mode.", param="mode")
        if mode not in ("payment", "subscription"):
            raise StripeError(400, "Invalid mode: the fake supports payment and subscription", param="mode")
        key, other = ("subscription_data", "payment_intent_data") if mode == "subscription" else \
            ("payment_intent_data", "subscription_data")
        if other in params:
            raise StripeError(400, f"You can not pass `{other}` in `{mode}` mode.", param=other)
        _check_url(params, "success_url", required=True)
        _check_url(params, "cancel_url", required=False)
        now = int(self.clock())
        if "expires_at" in params and not now + 1800 <= _integer(params, "expires_at", "expires_at") <= now + 86400:
            raise StripeError(400, "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout "
                                   "Session creation.", param="expires_at")
        email = params.get("customer_email")
        if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(email)):
            raise StripeError(400, "Invalid email address", param="customer_email")  # Stripe quotes it: not here
        if params.get("locale", "auto") not in LOCALES:
            raise StripeError(400, "Invalid locale", param="locale")
        methods = params.get("payment_method_types", ["card"])
        if not isinstance(methods, list) or not set(methods) <= METHOD_TYPES:
            raise StripeError(400, "Invalid payment_method_types", param="payment_method_types")
        if len(str(params.get("client_reference_id", ""))) > 200:
            raise StripeError(400, "client_reference_id holds at most 200 characters", param="client_reference_id")
        return mode, _only(params.get(key) or {}, {"metadata"}, key)

    def _line_items(self, value: Any, mode: str) -> tuple[list[dict[str, Any]], str, int]:
        if not value:
            raise StripeError(400, "Missing required param: line_items.", param="line_items")
        if not isinstance(value, list):
            raise StripeError(400, "Invalid array", param="line_items")
        items, currencies, total, recurring = [], set(), 0, False
        for index, item in enumerate(value):
            at = f"line_items[{index}]"
            _only(item, {"price_data", "quantity"}, at)
            quantity = _integer(item, "quantity", f"{at}[quantity]", minimum=1)
            price = _only(item.get("price_data"), {"currency", "unit_amount", "product_data", "recurring"},
                          f"{at}[price_data]")
            currency = str(price.get("currency") or "")
            if not re.fullmatch(r"[a-z]{3}", currency):
                raise StripeError(400, "Invalid currency", param=f"{at}[price_data][currency]")
            amount = _integer(price, "unit_amount", f"{at}[price_data][unit_amount]")
            product = _only(price.get("product_data"), {"name"}, f"{at}[price_data][product_data]")
            if not product.get("name"):
                raise StripeError(400, "Missing required param: name.", param=f"{at}[price_data][product_data][name]")
            if "recurring" in price:
                if mode == "payment":
                    raise StripeError(400, "You specified `payment` mode but passed a recurring price.",
                                      param=f"{at}[price_data][recurring]")
                interval = _only(price["recurring"], {"interval"}, f"{at}[price_data][recurring]").get("interval")
                if interval not in ("day", "week", "month", "year"):
                    raise StripeError(400, "Invalid interval", param=f"{at}[price_data][recurring][interval]")
                recurring = True
            currencies.add(currency)
            total += amount * quantity
            items.append({"name": product["name"], "unit_amount": amount, "quantity": quantity,
                          "currency": currency, "recurring": price.get("recurring")})
        if mode == "subscription" and not recurring:
            raise StripeError(400, "You must provide at least one recurring price in `subscription` mode.",
                              param="line_items")
        if len(currencies) > 1:
            raise StripeError(400, "All line items must share one currency", param="line_items")
        currency = currencies.pop()
        if total < MIN_CENTS.get(currency, 0):
            raise StripeError(400, f"The Checkout Session's total amount due must add up to at least "
                                   f"{euros(MIN_CENTS[currency])}", param="line_items")
        return items, currency, total

    def _get_session(self, params: dict[str, Any], sid: str) -> dict[str, Any]:
        return _public(self._session(sid))

    def _expire_session(self, params: dict[str, Any], sid: str) -> dict[str, Any]:
        session = self._session(sid)
        if session["status"] != "open":
            raise StripeError(400, 'Only Checkout Sessions with a status in ["open"] can be expired.')
        return self._expire(session)

    def _create_refund(self, params: dict[str, Any], _sid: None) -> dict[str, Any]:
        _only(params, {"payment_intent", "charge", "amount", "reason", "metadata", "expand"}, "")
        if not params.get("payment_intent") and not params.get("charge"):
            raise StripeError(400, "One of the following params should be provided for this request: payment_intent "
                                   "or charge.", param="payment_intent")
        param = "payment_intent" if params.get("payment_intent") else "charge"
        charge = self._charge_of(str(params[param]), param)
        left = charge["amount"] - charge["amount_refunded"]
        if charge.get("disputed"):
            raise StripeError(400, f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                              code="charge_disputed")
        if left <= 0:
            raise StripeError(400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        amount = _integer(params, "amount", "amount", minimum=1) if "amount" in params else left
        if amount > left:
            raise StripeError(400, f"Refund amount ({euros(amount)}) is greater than unrefunded amount on charge "
                                   f"({euros(left)})", param="amount")
        refund = self._put({"id": new_id("re_"), "object": "refund", "amount": amount, "charge": charge["id"],
                            "payment_intent": charge["payment_intent"], "currency": charge["currency"],
                            "status": "succeeded", "reason": params.get("reason"),
                            "metadata": _check_metadata(params.get("metadata"), "metadata"), **self._stamp()})
        refunded = charge["amount_refunded"] + amount
        charge = self._put({**charge, "amount_refunded": refunded, "refunded": refunded == charge["amount"]})
        self._emit("charge.refunded", charge)
        return refund

    def _get_invoice(self, params: dict[str, Any], sid: str) -> dict[str, Any]:
        invoice = _public(self._object(sid, "invoice"))
        if "payments" in (params.get("expand") or []):  # "includable": only when asked for
            invoice["payments"] = {"object": "list", "has_more": False, "url": "/v1/invoice_payments", "data": [{
                "id": new_id("inpay_"), "object": "invoice_payment", "invoice": sid, "status": "paid",
                "amount_paid": invoice["amount_paid"], "currency": invoice["currency"], "is_default": True,
                "payment": {"type": "payment_intent", "payment_intent": invoice["payment_intent"]}}]}
        return invoice

    def _get_subscription(self, params: dict[str, Any], sid: str) -> dict[str, Any]:
        return _public(self._object(sid, "subscription"))

    def _cancel_subscription(self, params: dict[str, Any], sid: str) -> dict[str, Any]:
        subscription = self._object(sid, "subscription")
        if subscription["status"] == "canceled":  # Stripe treats a canceled subscription as deleted
            raise StripeError(404, f"No such subscription: '{sid}'", param="id", code="resource_missing")
        now = int(self.clock())
        subscription = self._put({**subscription, "status": "canceled", "canceled_at": now, "ended_at": now,
                                  "cancellation_details": {"reason": "cancellation_requested"}})
        self._emit("customer.subscription.deleted", subscription)
        return _public(subscription)

    # -- the objects' life ---------------------------------------------------------------------

    def _complete(self, session: dict[str, Any]) -> dict[str, Any]:
        customer = self._put({"id": new_id("cus_"), "object": "customer", "email": session["customer_email"],
                              "metadata": {}, **self._stamp()})
        done = {**session, "status": "complete", "payment_status": "paid", "customer": customer["id"], "url": None,
                "customer_details": {"email": session["customer_email"]}}
        if session["mode"] == "payment":
            intent = self._payment(session["amount_total"], session["currency"], customer["id"], session["_metadata"])
            done = self._put({**done, "payment_intent": intent["id"]})
            self._emit("checkout.session.completed", done)
            return _public(done)
        item = session["_line_items"][0]
        subscription = self._put({
            "id": new_id("sub_"), "object": "subscription", "status": "active", "customer": customer["id"],
            "metadata": session["_metadata"], "currency": session["currency"], "canceled_at": None, "ended_at": None,
            "cancellation_details": None, "latest_invoice": None, **self._stamp(),
            "items": {"object": "list", "data": [{
                "object": "subscription_item", "quantity": item["quantity"],
                "price": {"object": "price", "currency": item["currency"], "unit_amount": item["unit_amount"],
                          "recurring": item["recurring"]}}]},
            "_amount": session["amount_total"]})
        done = self._put({**done, "subscription": subscription["id"]})
        invoice_event = self._invoice(subscription, "subscription_create", emit=False)
        done = self._put({**done, "invoice": invoice_event["id"]})
        self._emit("checkout.session.completed", done)
        self._emit("invoice.paid", invoice_event)
        return _public(done)

    def _payment(self, amount: int, currency: str, customer: str, metadata: dict[str, str],
                 invoice: str | None = None) -> dict[str, Any]:
        """A succeeded payment intent and its charge (which names its invoice, as before 2025-03-31.basil)."""
        intent_id, charge_id = new_id("pi_"), new_id("ch_")
        self._put({"id": charge_id, "object": "charge", "amount": amount, "amount_captured": amount,
                   "amount_refunded": 0, "currency": currency, "customer": customer, "paid": True, "captured": True,
                   "refunded": False, "disputed": False, "status": "succeeded", "payment_intent": intent_id,
                   "invoice": invoice, "metadata": metadata, **self._stamp()})
        return self._put({"id": intent_id, "object": "payment_intent", "amount": amount, "amount_received": amount,
                          "currency": currency, "customer": customer, "status": "succeeded", "metadata": metadata,
                          "latest_charge": charge_id, "last_payment_error": None, **self._stamp()})

    def _invoice(self, subscription: dict[str, Any], reason: str, emit: bool = True) -> dict[str, Any]:
        """A subscription's paid invoice, in both shapes: ``parent`` (2025+) and the older top-level fields."""
        invoice_id, amount, now = new_id("in_"), subscription["_amount"], int(self.clock())
        intent = self._payment(amount, subscription["currency"], subscription["customer"], {}, invoice=invoice_id)
        details = {"subscription": subscription["id"], "metadata": subscription["metadata"]}
        invoice = self._put({
            "id": invoice_id, "object": "invoice", "status": "paid", "paid": True, "billing_reason": reason,
            "amount_due": amount, "amount_paid": amount, "amount_remaining": 0, "currency": subscription["currency"],
            "customer": subscription["customer"], "period_start": now, "period_end": now + MONTH,
            "parent": {"type": "subscription_details", "quote_details": None, "subscription_details": details},
            "subscription": subscription["id"], "subscription_details": {"metadata": subscription["metadata"]},
            "payment_intent": intent["id"], "status_transitions": {"paid_at": now}, **self._stamp()})
        self._put({**subscription, "latest_invoice": invoice_id})
        if emit:
            self._emit("invoice.paid", invoice)
        return invoice

    def _decline(self, session: dict[str, Any]) -> str:
        intent = self._put({
            "id": new_id("pi_"), "object": "payment_intent", "amount": session["amount_total"], "amount_received": 0,
            "currency": session["currency"], "status": "requires_payment_method", "metadata": session["_metadata"],
            "latest_charge": None, "last_payment_error": {"type": "card_error", "code": "card_declined",
                                                          "decline_code": "generic_decline",
                                                          "message": "Your card was declined."}, **self._stamp()})
        declines = [*session.get("_declines", []), intent["id"]]
        if session["mode"] == "payment":
            session = {**session, "payment_intent": intent["id"]}
        self._put({**session, "_declines": declines})
        return str(intent["id"])

    def _expire(self, session: dict[str, Any]) -> dict[str, Any]:
        expired = self._put({**session, "status": "expired", "url": None})
        self._emit("checkout.session.expired", expired)
        return _public(expired)

    def _charge_of(self, payment_id: str, param: str) -> dict[str, Any]:
        found = self._load(payment_id)
        if found and found["object"] == "invoice":
            found = self._load(found["payment_intent"])
        if found and found["object"] == "payment_intent":
            found = self._load(found["latest_charge"] or "")
        if not found or found["object"] != "charge":
            raise StripeError(400, f"No such {param}: '{payment_id}'", param=param, code="resource_missing")
        return found

    def _session(self, sid: str) -> dict[str, Any]:
        """A session; an open one past its ``expires_at`` expires now, as Stripe's sweep would have done."""
        session = self._object(sid, "checkout.session")
        if session["status"] == "open" and self.clock() >= session["expires_at"]:
            self._expire(session)
            session = self._object(sid, "checkout.session")
        return session

    def _open_session(self, sid: str) -> dict[str, Any]:
        session = self._session(sid)
        if session["status"] != "open":
            raise StripeError(400, f"Checkout Session {sid} is {session['status']}")
        return session

    # -- storage -------------------------------------------------------------------------------

    def _stamp(self) -> dict[str, Any]:
        return {"created": int(self.clock()), "livemode": False}

    def _load(self, object_id: str) -> dict[str, Any] | None:
        row = self.store.db().execute("SELECT body FROM objects WHERE id = ?", (object_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def _object(self, object_id: str, kind: str) -> dict[str, Any]:
        found = self._load(object_id)
        if found is None or found["object"] != kind:
            raise StripeError(404, f"No such {kind.rsplit('.', 1)[-1]}: '{object_id}'", param="id",
                              code="resource_missing")
        return found

    def _put(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.store.db().execute("INSERT OR REPLACE INTO objects VALUES (?, ?)", (obj["id"], json.dumps(obj)))
        return obj

    def _emit(self, kind: str, obj: dict[str, Any]) -> None:
        event = {"id": new_id("evt_"), "object": "event", "api_version": API_VERSION, "created": int(self.clock()),
                 "data": {"object": _public(obj)}, "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None}, "type": kind}
        body = json.dumps(event, indent=2).encode()
        self.store.db().execute("INSERT INTO events (id, body, signature) VALUES (?, ?, ?)",
                                (event["id"], body, self.sign(body)))
        self._wake.set()

    # -- webhook delivery ----------------------------------------------------------------------

    def _ensure_deliverer(self) -> None:
        """One delivery thread per process (started lazily: gunicorn may fork after the app is built)."""
        if not (self.webhook_url or self.deliver) or self._stopping.is_set():
            return
        with self._lock:
            if self._deliverer is not None and self._deliverer.is_alive() and self._deliverer_pid == os.getpid():
                return
            self._deliverer_pid = os.getpid()
            self._deliverer = threading.Thread(target=self._deliver_loop, name="dev-stripe-webhooks", daemon=True)
            self._deliverer.start()

    def _deliver_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            claimed = self._claim()
            if claimed is None:
                self._wake.wait(0.2)  # woken by an event of this process; polls for the others'
                self._wake.clear()
                continue
            seq, body = claimed
            if self._post(body):
                failures = 0
                self._settle(seq, delivered=True)
                continue
            delay = self.retry_delays[min(failures, len(self.retry_delays) - 1)]
            failures += 1
            self._settle(seq, delivered=False, hold=delay)
            self._stopping.wait(delay)

    def _claim(self) -> tuple[int, bytes] | None:
        """The oldest undelivered event, unless another process holds its lease."""
        now = time.time()
        with self.store.transaction() as db:
            row = db.execute("SELECT seq, body, claimed_by, claimed_until FROM events WHERE delivered = 0 "
                             "ORDER BY seq LIMIT 1").fetchone()
            if row is None or (row[2] not in (None, self._owner) and row[3] > now):
                return None
            db.execute("UPDATE events SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1 WHERE seq = ?",
                       (self._owner, now + 30, row[0]))
        return row[0], bytes(row[1])

    def _settle(self, seq: int, *, delivered: bool, hold: float = 0.0) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE events SET delivered = ?, claimed_until = ? WHERE seq = ?",
                       (int(delivered), time.time() + hold + 5, seq))
        with self._delivered:
            self._delivered.notify_all()

    def _post(self, body: bytes) -> bool:
        if self.deliver is not None:
            try:
                return self.deliver(body, self.sign(body))
            except Exception:  # a failing receiver is retried, as Stripe does
                return False
        # webhook_url was checked to be http(s) at construction
        request = urllib.request.Request(str(self.webhook_url), data=body, method="POST", headers={  # noqa: S310
            "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": self.sign(body),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310 - an http(s) URL, checked at construction
                return 200 <= response.status < 300
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def _pending(self) -> int:
        with self.store.lock:
            return int(self.store.db().execute("SELECT count(*) FROM events WHERE delivered = 0").fetchone()[0])

    # -- the hosted page -----------------------------------------------------------------------

    def _page(self, request: Request, sid: str) -> Response:
        action = request.form.get("action") if request.method == "POST" else None
        try:
            with self.store.transaction():
                session = self._session(sid)
                if session["status"] != "open":
                    gone = "a expiré" if session["status"] == "expired" else "a déjà été payée"
                    return _html(410, f"<p>Cette session de paiement {gone}.</p>")
                if action == "pay":
                    self._complete(session)
                    target = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", sid)
                    return Response("", status=303, headers={"Location": target})
                if action == "abandon":
                    if session.get("cancel_url"):
                        return Response("", status=303, headers={"Location": session["cancel_url"]})
                    return _html(200, "<p>Paiement abandonné.</p>")
                if action == "decline":
                    self._decline(session)
                    return _html(200, _form(session, "Votre carte a été refusée."))
                if action is not None:
                    return _html(400, "<p>Action inconnue.</p>")
                return _html(200, _form(session, None))
        except StripeError:
            return _html(404, "<p>Session de paiement introuvable.</p>")


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _form(session: dict[str, Any], error: str | None) -> str:
    item = session["_line_items"][0]
    period = " par mois" if session["mode"] == "subscription" else ""
    notice = f'<p role="alert" class="alert">{html.escape(error)}</p>' if error else ""
    return ('<p class="banner">Page de paiement de démonstration\u202f: aucune carte n’est demandée, aucun argent ne '
            "bouge. Sur le site du mouvement, c’est la page de Stripe.</p>"
            f"<h1>{html.escape(str(item['name']))}</h1><p class=\"amount\">{euros(session['amount_total'])}{period}</p>"
            f"{notice}"
            '<form method="post"><button name="action" value="pay" class="primary">Payer</button>'
            '<button name="action" value="decline">Refuser la carte</button>'
            '<button name="action" value="abandon">Abandonner</button></form>')


_STYLE = ("body{font-family:system-ui,sans-serif;max-width:36rem;margin:0 auto;padding:1rem;color:#0b0c0c}"
          ".banner{background:#fff7bf;border-left:4px solid #b58800;padding:.75rem 1rem}"
          ".amount{font-size:1.5rem;font-weight:700}.alert{color:#d4351c;font-weight:700}"
          "form{display:flex;flex-wrap:wrap;gap:.75rem}button{min-height:44px;min-width:44px;padding:.5rem 1rem;"
          "font-size:1rem;border:2px solid #0b0c0c;border-radius:4px;background:#fff;cursor:pointer}"
          "button.primary{background:#00703c;border-color:#00703c;color:#fff}")


def _html(status: int, body: str) -> Response:
    page = ('<!doctype html><html lang="fr"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Paiement (Stripe de démonstration)</title><style>{_STYLE}</style></head>"
            f"<body>{body}</body></html>")
    return Response(page, status=status, mimetype="text/html")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextlib.contextmanager
def serve_dev_stripe(**kwargs: Any) -> Iterator[DevStripe]:
    """A DevStripe on ``127.0.0.1:<free port>`` in a daemon thread; ``url`` (and, unless given, ``public_url``)
    set to where it listens."""
    fake = DevStripe(**kwargs)
    server = make_server("127.0.0.1", 0, fake, threaded=True, request_handler=_QuietHandler)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    fake.public_url = fake.public_url or fake.url
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="dev-stripe",
                              daemon=True)
    thread.start()
    fake._ensure_deliverer()
    try:
        yield fake
    finally:
        fake._stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        fake.close()


class InProcessClient(stripe.HTTPClient):
    """The ``stripe`` library's HTTP client answering from a `DevStripe` in this process (no socket): what a
    developer's machine uses, so that the app never calls itself over HTTP while serving a request."""

    name = "in-process"

    def __init__(self, fake: DevStripe) -> None:
        super().__init__()
        self.fake = fake

    def request(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None,
                *, _usage: list[str] | None = None) -> tuple[str, int, Mapping[str, str]]:
        parts = urlsplit(url)
        environ = EnvironBuilder(path=parts.path, query_string=parts.query, method=method.upper(),
                                 headers=list((headers or {}).items()), data=post_data).get_environ()
        response = Response.from_app(self.fake, environ)
        return response.get_data(as_text=True), response.status_code, dict(response.headers)

    def request_stream(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None,
                       *, _usage: list[str] | None = None) -> Any:
        raise NotImplementedError("the stand-in provider streams nothing")

    def close(self) -> None:
        pass
