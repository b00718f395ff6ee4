"""Log-in throttling: after 5 failures in 10 minutes for one address or one client, refuse even the
right password for a while. Counters live in the rate limiter's storage (Redis when configured, else the
database: shared by every worker, web/limits.py); addresses are hashed first, so no address is stored there."""

from __future__ import annotations

import hashlib

from flask_limiter.util import get_remote_address
from limits import parse

from engagement.accounts.service import normalize_email
from web.limits import counted

FAILURES = parse("5 per 10 minutes")


def _keys(email: str) -> list[tuple[str, str]]:
    digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]
    return [("login-failures-email", digest), ("login-failures-ip", get_remote_address())]


def locked(email: str) -> bool:
    """Whether this address or this client has failed too often lately."""
    keys = _keys(email)
    return counted(lambda counters: any(not counters.test(FAILURES, *key) for key in keys))


def record_failure(email: str) -> None:
    keys = _keys(email)
    counted(lambda counters: [counters.hit(FAILURES, *key) for key in keys])
