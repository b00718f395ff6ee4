"""Rate limits that workflows declare (`rate_limit:` on a transition), counted per client and account.

Counters live in the rate limiter's storage: Redis when configured, else this process's memory.
When Redis does not answer, they are counted in this process's memory until it does (never off).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many
from limits.strategies import RateLimiter

from web.extensions import limiter

log = logging.getLogger(__name__)
T = TypeVar("T")


def counted(call: Callable[[RateLimiter], T]) -> T:
    """Run ``call`` on the limiter's counters; if their storage fails, switch to the in-memory
    fallback (as Flask-Limiter does for its decorators, which also switch back) and run it there."""
    try:
        return call(limiter.limiter)
    except Exception as error:
        if limiter._storage_dead or not limiter._in_memory_fallback_enabled:
            raise
        log.warning("Rate limit storage unreachable (%s) - counting in memory until it answers",
                    type(error).__name__)
        limiter._storage_dead = True
        return call(limiter.limiter)


def spend(limit: str, scope: str, *, per_client: bool = True) -> int | None:
    """Count one use of ``scope`` by this client (and account); None when allowed, else seconds to wait.

    ``per_client=False`` counts per account only (organizers sharing an office's address)."""
    who = [("ip", get_remote_address())] if per_client else []
    if current_user.is_authenticated:
        who.append(("user", str(current_user.id)))
    keys = [(item, ("workflow", scope, kind, value)) for item in parse_many(limit) for kind, value in who]

    def spend_on(counters: RateLimiter) -> int | None:
        for item, key in keys:
            if not counters.test(item, *key):
                reset, _remaining = counters.get_window_stats(item, *key)
                return max(1, int(reset - time.time()) + 1)
        for item, key in keys:
            counters.hit(item, *key)
        return None

    return counted(spend_on)
