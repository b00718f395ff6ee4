"""Rate limits that workflows declare (`rate_limit:` on a transition), counted per client and account, and
where every rate limit counts.

Counters live in the rate limiter's storage: Redis when configured, else the database (`DatabaseStorage`,
engagement/ratelimits.py), so that every worker and every pod counts the same. When that storage does not
answer, they are counted in this process's memory until it does (never off).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError
from limits.storage import Storage
from limits.strategies import RateLimiter
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from engagement.ratelimits import Counters, counters_engine
from web.extensions import limiter

log = logging.getLogger(__name__)
T = TypeVar("T")
DATABASE_SCHEME = "engagement-db"


class DatabaseStorage(Storage):
    """The limiter's storage on the database's counters (fixed windows, the limiter's default strategy)."""

    STORAGE_SCHEME = [DATABASE_SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, *, engine: Engine | None = None,
                 **_options: Any) -> None:
        if engine is None:
            raise ConfigurationError(f"{DATABASE_SCHEME}:// needs engine=, the counters' database")
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.counters = Counters(engine)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.counters.hit(key, expiry, amount)

    def get(self, key: str) -> int:
        return self.counters.count(key)

    def get_expiry(self, key: str) -> float:
        return self.counters.expiry(key)

    def check(self) -> bool:
        return self.counters.answers()

    def reset(self) -> int | None:
        return self.counters.clear_all()

    def clear(self, key: str) -> None:
        self.counters.clear(key)


def storage_settings(redis_url: str | None, redis_options: dict[str, Any], engine: Engine) -> dict[str, Any]:
    """The limiter's storage settings (RATELIMIT_STORAGE_*): Redis when configured, else the database's counters;
    this process's memory only for an in-memory SQLite database, which no other process can reach anyway."""
    if redis_url:
        return {"RATELIMIT_STORAGE_URI": redis_url, "RATELIMIT_STORAGE_OPTIONS": redis_options}
    counted_on = counters_engine(engine)
    if counted_on is None:
        return {"RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_STORAGE_OPTIONS": {}}
    return {"RATELIMIT_STORAGE_URI": f"{DATABASE_SCHEME}://", "RATELIMIT_STORAGE_OPTIONS": {"engine": counted_on}}


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
        for item, key in keys:  # a spent limit: refused without counting
            if not counters.test(item, *key):
                return _wait(counters, item, key)
        for item, key in keys:  # a hit answers whether it fitted: a concurrent request may have taken the last
            if not counters.hit(item, *key):
                return _wait(counters, item, key)
        return None

    return counted(spend_on)


def _wait(counters: RateLimiter, item: RateLimitItem, key: tuple[str, ...]) -> int:
    """Seconds until ``item`` counts afresh for ``key``."""
    reset, _remaining = counters.get_window_stats(item, *key)
    return max(1, int(reset - time.time()) + 1)
