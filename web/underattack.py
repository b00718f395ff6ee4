"""The "under attack" switch as the web pods apply it (docs/security.md).

Each process reads the switch from the database at most every `POLL_SECONDS`: a change made by the
CLI or the admin area reaches every pod within that time. While it is on, `web.pagecache.PageCache`
ignores every cookie (no session is looked up, none is saved), serves public pages from the page
cache with a long ``s-maxage``, and answers everything else with the static page of `Closed`: a 503
with ``Retry-After``, rendered once per language. Nothing writes to the database; pages missing
from the cache are rendered at most `RENDERS_PER_SECOND` times a second per view and process (a
flood of unknown event addresses spends the event page's budget, not the home page's), else closed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, json, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.test import EnvironBuilder

from engagement import switches
from engagement.committees import service as committees
from engagement.db import utcnow
from engagement.events import service as events
from engagement.pages.models import ContentPage
from web import headers

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0  # how stale a process's idea of the switch may be
ATTACK_SECONDS = 600  # the s-maxage of public pages while under attack: the CDN answers for ten minutes
RETRY_AFTER = 300  # what the closed page asks browsers to wait
RENDERS_PER_SECOND = 5.0  # pages of one view missing from the cache a process renders, at most, under attack
RENDERS_BURST = 10
OPEN_ENDPOINTS = frozenset({"admin.under_attack"})  # where a signed-in admin turns the switch off
# Served as usual, cookies ignored.
PASS_ENDPOINTS = frozenset({"static", "core.favicon", "core.healthz", "core.readyz"})
WARM_LIMIT = 500  # event, committee and content pages rendered ahead when the switch is turned on


class SwitchReader:
    """The switch as this process knows it: one primary-key read every `POLL_SECONDS` at most.

    A database error keeps the last value read (logged once): the switch never flips by accident."""

    def __init__(self, engine: Engine, poll: float = POLL_SECONDS) -> None:
        self.engine = engine
        self.poll = poll
        self._value = False
        self._read_at = float("-inf")
        self._failing = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self._read_at < self.poll:
            return self._value
        self._read_at = now
        try:
            with self.engine.connect() as connection:
                self._value = switches.is_on(connection, switches.UNDER_ATTACK)
        except SQLAlchemyError as error:
            if not self._failing:
                log.warning("the under-attack switch could not be read (%s): keeping %s",
                            type(error).__name__, "on" if self._value else "off")
            self._failing = True
            return self._value
        self._failing = False
        return self._value

    def forget(self) -> None:
        """Read again at the next request (the process that turned the switch)."""
        self._read_at = float("-inf")


class Budget:
    """A token bucket: at most ``rate`` renders a second per process, ``burst`` at once."""

    def __init__(self, rate: float = RENDERS_PER_SECOND, burst: float = RENDERS_BURST) -> None:
        self.rate, self.burst = rate, burst
        self._tokens, self._at = burst, time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


class Closed:
    """The static "temporarily closed" answer: a 503 with ``Retry-After``, HTML or, under /api/, JSON."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._answers: dict[tuple[str, bool], tuple[bytes, list[tuple[str, str]]]] = {}
        self._lock = threading.Lock()

    def answer(self, locale: str, api: bool) -> tuple[bytes, list[tuple[str, str]]]:
        """The body and headers in ``locale``, rendered the first time they are asked for."""
        found = self._answers.get((locale, api))
        if found is None:
            with self._lock, self.app.test_request_context("/"), force_locale(locale):
                if api:
                    message = _("The site is temporarily closed to protect it. Please come back in a few minutes.")
                    body = json.dumps({"error": "Service Unavailable", "message": message}).encode()
                else:
                    body = render_template("errors/closed.html", retry_minutes=RETRY_AFTER // 60).encode()
            found = body, [
                ("Content-Type", "application/json" if api else "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))), ("Retry-After", str(RETRY_AFTER)), ("Cache-Control", "no-store"),
                ("Content-Language", locale), ("Content-Security-Policy", headers.DEFAULT_POLICY),
                *headers.FIXED.items()]
            self._answers[(locale, api)] = found
        return found

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any], locale: str) -> Iterable[bytes]:
        body, answer_headers = self.answer(locale, environ.get("PATH_INFO", "").startswith("/api/"))
        start_response("503 Service Unavailable", list(answer_headers))
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def public_urls(session: Session) -> list[str]:
    """The public pages worth having in the cache before an attack: lists, then the upcoming events,
    the approved committees and the published content pages."""
    urls = ["/", "/events", "/committees", "/search"]
    urls += [f"/events/{event.slug}" for event in events.upcoming(session, utcnow(), limit=WARM_LIMIT)]
    urls += [f"/committees/{committee.slug}" for committee in committees.approved(session, limit=WARM_LIMIT)]
    urls += [f"/pages/{slug}" for slug in session.scalars(
        select(ContentPage.slug).where(ContentPage.is_published.is_(True)).order_by(ContentPage.id).limit(WARM_LIMIT))]
    return urls


def warm(app: Flask, locales: Iterable[str]) -> int:
    """Render the public pages in each language into the page cache; returns how many were kept.

    Runs in a thread of its own: started from a view, the renders would otherwise share that request's
    application context, and a page kept for everyone could show the signed-in admin's menu."""
    kept: list[int] = []
    worker = threading.Thread(target=lambda: kept.append(_warm(app, tuple(locales))), name="page-cache-warm")
    worker.start()
    worker.join()
    return kept[0] if kept else 0


def _warm(app: Flask, locales: tuple[str, ...]) -> int:
    cache = app.extensions["page_cache"]
    with app.extensions["engagement"].sessions() as session:
        urls = public_urls(session)
    kept = 0
    for url in urls:
        for locale in locales:
            environ = EnvironBuilder(path=url, headers={"Accept-Language": locale}).get_environ()
            found = cache.lookup(environ, cache.endpoint(environ), None)
            if found is not None and cache.render(environ, *found).storable:
                kept += 1
    return kept
