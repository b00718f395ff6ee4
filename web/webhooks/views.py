"""Callbacks from providers: Mailjet's events (sent, open, click, bounce, blocked, spam, unsub)."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, abort, jsonify, request

from engagement.db import transaction, utcnow
from engagement.mail import events
from web.db import current_core, sessions
from web.extensions import csrf

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
MAX_EVENTS = 10_000  # Mailjet groups events; one callback never carries more


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
