"""Callbacks from providers: Mailjet's events (sent, open, click, bounce, blocked, spam, unsub), Stripe's
payment events (signed: engagement/donations/payments.py)."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Blueprint, abort, jsonify, request

from engagement.db import transaction, utcnow
from engagement.donations.service import NotYet
from engagement.mail import events
from engagement.payments.errors import InvalidWebhook
from web.db import current_core, sessions
from web.extensions import csrf

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
MAX_EVENTS = 10_000  # Mailjet groups events; one callback never carries more
MAX_STRIPE_BODY = 512 * 1024  # one Stripe event is a few kilobytes


@bp.post("/mailjet")
@csrf.exempt  # authenticated by the secret of the callback URL, not by a session
def mailjet() -> Any:
    secret = current_core().settings.mailjet_webhook_secret
    if not secret:
        abort(404)
    auth = request.authorization
    if auth is None or not hmac.compare_digest((auth.password or "").encode(), secret.encode()):
        return jsonify(error="unauthorized"), 401, {"WWW-Authenticate": 'Basic realm="mailjet"'}
    body = request.get_json(silent=True)
    posted = body if isinstance(body, list) else [body] if isinstance(body, dict) else None  # one call's events
    if posted is None or len(posted) > MAX_EVENTS:
        return jsonify(error="a JSON event or a list of events"), 400
    now = utcnow()
    with transaction(sessions()) as session:
        known = sum(events.record(session, e, now) for e in posted if isinstance(e, dict))
    return jsonify(received=len(posted), recorded=known)


@bp.post("/stripe")
@csrf.exempt  # authenticated by Stripe's signature of the body, not by a session
# No rate limit: a forged post costs one HMAC, less than a limiter's counter would; a signed one is Stripe's.
def stripe() -> Any:
    payments = current_core().payments
    if payments is None:
        abort(404)
    if (request.content_length or 0) > MAX_STRIPE_BODY:
        return jsonify(error="too large"), 413
    body = request.get_data(cache=False)
    try:
        outcome = payments.receive(sessions(), body, request.headers.get("Stripe-Signature"), utcnow())
    except InvalidWebhook as refused:
        log.warning("a Stripe webhook was refused: %s", refused)  # the reason, never the body
        return jsonify(error="invalid signature"), 400
    except NotYet:
        return jsonify(error="not applicable yet: send it again later"), 409
    return jsonify(outcome=outcome)
