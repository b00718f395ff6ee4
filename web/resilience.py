"""Degrading gracefully when Redis or the broker is down: fast failures, a breaker, a friendly 503.

Sessions live in Redis when ``REDIS_URL`` is set. When it does not answer, the request gets an empty
stand-in session (``session.unavailable``): pages render, and what needs the session (a form whose
CSRF token cannot be checked, logging in, a wizard) answers ``unavailable()`` instead of failing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, TimeoutError
from functools import wraps
from typing import Any

from flask import Response, current_app, render_template, session
from flask.globals import request_ctx
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry
from werkzeug.http import HTTP_STATUS_CODES

log = logging.getLogger(__name__)

RETRY_AFTER = 10  # seconds the 503 page asks the browser to wait
PROBE_TIMEOUT = 1.0  # seconds each readiness probe may take


def redis_options() -> dict[str, Any]:
    """Client options that make a dead Redis fail in half a second, never hang a request.

    One immediate retry on a refused or reset connection (a pooled connection that a Redis restart
    closed), none on a timeout: a timeout already cost its half second."""
    return {
        "socket_connect_timeout": 0.5,
        "socket_timeout": 0.5,
        "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    }


class Breaker:
    """After a failure, leave a service alone for ``cooldown`` seconds; then the next requests try it again."""

    def __init__(self, name: str, cooldown: float = 5.0) -> None:
        self.name = name
        self.cooldown = cooldown
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        failed_at = self._failed_at
        return failed_at is not None and time.monotonic() - failed_at < self.cooldown

    def trip(self, error: BaseException) -> None:
        with self._lock:
            first = self._failed_at is None
            self._failed_at = time.monotonic()
        if first:  # one line per outage, not one per request; the error names no one
            log.warning("%s unreachable (%s: %s): degraded for at least %.0f s", self.name,
                        type(error).__name__, error, self.cooldown)

    def succeeded(self) -> None:
        if self._failed_at is None:
            return
        with self._lock:
            recovered, self._failed_at = self._failed_at is not None, None
        if recovered:
            log.warning("%s reachable again", self.name)


def session_unavailable() -> bool:
    """Whether this request runs on the stand-in session (the session store did not answer)."""
    return bool(getattr(session, "unavailable", False))


def cannot_link() -> bool:
    """Whether this request has no URL adapter, so that a template's ``url_for`` would fail: Flask could not
    bind its URL map to the request's Host (a ``BadHost`` that did not come through the shield, web/shield.py).
    Error pages then answer `plain_error`."""
    return request_ctx.url_adapter is None


def plain_error(code: int, headers: dict[str, str] | None = None) -> Response:
    """A static short answer (``400 Bad Request``), for when no page can be rendered."""
    response = Response(f"{code} {HTTP_STATUS_CODES.get(code, 'Error')}\n", code, headers,
                        content_type="text/plain; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


def unavailable() -> Any:
    """The friendly 503: nothing was done, try again in a moment."""
    if cannot_link():
        return plain_error(503, {"Retry-After": str(RETRY_AFTER)})
    body = render_template("errors/unavailable.html", retry_after=RETRY_AFTER)
    return body, 503, {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}


def needs_session(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view that must remember something in the session answers the friendly 503 without one."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if session_unavailable() or not _store_answers():
            return unavailable()
        return view(*args, **kwargs)

    return guarded


def _store_answers() -> bool:
    """A session read from the store proves it answers; a new visitor's was never read, so ask."""
    if session:
        return True
    answers = getattr(current_app.session_interface, "answers", None)
    return answers is None or bool(answers())


_probes = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz")


def probe_all(probes: dict[str, Callable[[], object]], timeout: float = PROBE_TIMEOUT) -> dict[str, str]:
    """Run the probes side by side; each is ``ok`` or ``down`` (failed, or not done within ``timeout``)."""
    futures = {name: _probes.submit(probe) for name, probe in probes.items()}
    deadline = time.monotonic() + timeout
    checks: dict[str, str] = {}
    for name, future in futures.items():
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
            checks[name] = "ok"
        except TimeoutError:
            log.warning("readiness: %s did not answer within %.1f s", name, timeout)
            checks[name] = "down"
        except Exception as error:
            log.warning("readiness: %s unreachable (%s: %s)", name, type(error).__name__, error)
            checks[name] = "down"
    return checks
