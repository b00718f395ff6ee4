"""Rate limits that workflows declare (`rate_limit:` on a transition), counted per client and account.

Counters live in the rate limiter's storage: Redis when configured, else this process's memory.
"""

from __future__ import annotations

import time

from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many

from web.extensions import limiter


def spend(limit: str, scope: str, *, per_client: bool = True) -> int | None:
    """Count one use of ``scope`` by this client (and account); None when allowed, else seconds to wait.

    ``per_client=False`` counts per account only (organizers sharing an office's address)."""
    who = [("ip", get_remote_address())] if per_client else []
    if current_user.is_authenticated:
        who.append(("user", str(current_user.id)))
    keys = [(item, ("workflow", scope, kind, value)) for item in parse_many(limit) for kind, value in who]
    for item, key in keys:
        if not limiter.limiter.test(item, *key):
            reset, _remaining = limiter.limiter.get_window_stats(item, *key)
            return max(1, int(reset - time.time()) + 1)
    for item, key in keys:
        limiter.limiter.hit(item, *key)
    return None
