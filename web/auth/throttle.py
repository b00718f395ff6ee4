"""Log-in throttling: after 5 failures in 10 minutes for one address or one client, refuse even the
right password for a while. Counters live in the rate limiter's storage (Redis when configured);
addresses are hashed first, so no address is stored there."""

from __future__ import annotations

import hashlib

from flask_limiter.util import get_remote_address
from limits import parse

from engagement.accounts.service import normalize_email
from web.extensions import limiter

FAILURES = parse("5 per 10 minutes")


def _keys(email: str) -> list[tuple[str, str]]:
    digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]
    return [("login-failures-email", digest), ("login-failures-ip", get_remote_address())]


def locked(email: str) -> bool:
    """Whether this address or this client has failed too often lately."""
    return any(not limiter.limiter.test(FAILURES, *key) for key in _keys(email))


def record_failure(email: str) -> None:
    for key in _keys(email):
        limiter.limiter.hit(FAILURES, *key)
