"""The full-page cache in front of Flask (docs/security.md).

Flask answers the pages marked ``@public`` (`web.public`) to anonymous visitors as cacheable by anyone.
`PageCache`, plain WSGI in front of Flask, keeps those answers in Flask-Caching's store (Redis when
configured) and serves them again without Flask: no session, no database, no template. The key is the
path, the arguments the view declared (any other is dropped before the page renders, so a random
``?x=`` can neither miss the cache nor be reflected in a kept page) and the language.

A page declaring tags (``@public(tags=("event:{slug}",))``) is kept with the generations its tags had just
before it rendered (`engagement.generations`), and served only while they are unchanged: a commit that
changes an event bumps them, so the next request, in any process, renders afresh (the store's copy and each
process's one-second local copy alike), without listing the keys (languages, query strings) to delete.

A session cookie sends the visitor to Flask only when the session store holds that session
(`web.sessions.KnownSessions.holds`): a made-up or stale one is dropped from the request, which is served
as any anonymous one, and the answer to that visitor alone clears the cookie and is ``private``.

While the "under attack" switch is on (`web.underattack`), the same cache serves every visitor, with
cookies ignored; what it cannot serve answers a static 503.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Flask
from flask_caching import Cache
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie
from werkzeug.routing import RequestRedirect

from engagement.generations import Generations, MemoryGenerations
from web.public import LANG_COOKIE, VARY, Policy, choose_locale, policies
from web.resilience import Breaker
from web.underattack import ATTACK_SECONDS, OPEN_ENDPOINTS, PASS_ENDPOINTS, Budget, Closed

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
log = logging.getLogger(__name__)

LOCAL_SECONDS = 1.0  # how long a process reuses a page it read from the store, without asking again
LOCAL_ENTRIES = 256
KEEP_SECONDS = 86400  # how long an entry stays in the store: under attack, a stale page beats a closed one
PASS_PREFIXES = ("/media/",)  # images: served beside Flask, with no session whatever the switch says
UNDER_ATTACK = "engagement.under_attack"  # set in the WSGI environ of what Flask renders under attack
# Headers of a kept answer that are computed again each time it is served.
_RECOMPUTED = {"cache-control", "vary", "age", "etag", "content-length", "date", "set-cookie", "x-page-cache"}


@dataclass(frozen=True)
class Entry:
    """A kept answer: what Flask sent, minus what is computed again when it is served."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    stored_at: float
    s_maxage: int
    etag: str  # of the body, computed once when kept
    stamp: tuple[int, ...] = ()  # the generations of the page's tags just before it rendered

    def age(self, now: float) -> int:
        return max(0, int(now - self.stored_at))


class Store:
    """Flask-Caching's backend, where an error counts as a miss (Redis down: pages render again).

    Each process also keeps what it read for `LOCAL_SECONDS` (at most `LOCAL_ENTRIES` pages): a busy
    page costs one Redis read a second per process, not one per request."""

    def __init__(self, cache: Cache, app: Flask) -> None:
        self.backend = app.extensions["cache"][cache]
        self.breaker = Breaker("page cache (Redis)")
        self.local: OrderedDict[str, tuple[float, Entry]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        now = time.monotonic()
        held = self.local.get(key)
        if held is not None and now - held[0] < LOCAL_SECONDS:
            return held[1]
        if self.breaker.is_open:
            return None
        try:
            entry = self.backend.get(key)
        except Exception as error:  # any failure of the store is a miss (the breaker logs it once)
            self.breaker.trip(error)
            return None
        self.breaker.succeeded()
        if not isinstance(entry, Entry):
            return None
        self._hold(key, entry, now)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self._hold(key, entry, time.monotonic())
        if self.breaker.is_open:
            return
        try:
            self.backend.set(key, entry, timeout=KEEP_SECONDS)
        except Exception as error:
            self.breaker.trip(error)

    def clear(self) -> None:
        with self._lock:
            self.local.clear()
        self.backend.clear()

    def _hold(self, key: str, entry: Entry, now: float) -> None:
        with self._lock:
            self.local[key] = (now, entry)
            self.local.move_to_end(key)
            while len(self.local) > LOCAL_ENTRIES:
                self.local.popitem(last=False)


@dataclass(frozen=True)
class Rendered:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def storable(self) -> bool:
        names = {name.lower(): value for name, value in self.headers}
        return (self.status.startswith("200 ") and "set-cookie" not in names
                and "public" in names.get("cache-control", "") and "s-maxage" in names.get("cache-control", ""))

    def respond(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Send Flask's answer as it came (no body to a HEAD)."""
        start_response(self.status, self.headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [self.body]


class PageCache:
    """WSGI: anonymous GETs of public pages from the store; the rest to Flask (``app``)."""

    def __init__(self, app: WSGIApp, flask_app: Flask, store: Store, *, locales: tuple[str, ...],
                 default_locale: str, session_cookie: str, switch: Callable[[], bool], closed: Closed,
                 generations: Generations | None = None) -> None:
        self.app = app
        self.generations = generations or MemoryGenerations()
        self.switch = switch
        self.closed = closed
        self.budgets: defaultdict[str, Budget] = defaultdict(Budget)  # one a view: unknown slugs spend only theirs
        self.flask_app = flask_app
        self.policies = policies(flask_app)  # built once every view is registered (create_app)
        self.store = store
        self.locales = locales
        self.default_locale = default_locale
        self.session_cookie = session_cookie

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(PASS_PREFIXES):
            return self.app(environ, start_response)
        if self.switch():
            return self.under_attack(environ, start_response)
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
        endpoint, values = self.match(environ)
        if self.session_cookie in cookies:
            if endpoint not in self.policies or not self.made_up(cookies[self.session_cookie]):
                return self.app(environ, start_response)  # maybe signed in: Flask answers, privately
            environ["HTTP_COOKIE"] = _without_cookie(environ["HTTP_COOKIE"], self.session_cookie)
            start_response = self.clearing(start_response)
        found = self.lookup(environ, endpoint, values, lang_cookie=cookies.get(LANG_COOKIE))
        if found is None:
            return self.app(environ, start_response)
        key, policy, tags = found
        stamp = self.stamp(tags)
        entry = self.store.get(key)
        now = time.time()
        if entry is not None and entry.age(now) < policy.s_maxage and entry.stamp == stamp:
            return self.serve(entry, environ, start_response, now=now, s_maxage=entry.s_maxage, vary=VARY)
        return self.render(environ, key, policy, tags, stamp).respond(environ, start_response)

    def made_up(self, sid: str) -> bool:
        """Whether the store says it holds no session ``sid`` (a store that cannot tell says nothing)."""
        holds = getattr(self.flask_app.session_interface, "holds", None)
        return holds is not None and holds(sid) is False

    @cached_property
    def _clearing_cookie(self) -> str:
        return str(self.flask_app.session_interface.clearing_cookie(self.flask_app))  # type: ignore[attr-defined]

    def clearing(self, start_response: Callable[..., Any]) -> Callable[..., Any]:
        """``start_response`` adding the header that clears a made-up session cookie (unless Flask set a new
        session); the answer becomes private (it must not be kept for anyone else with that header)."""
        own = f"{self.session_cookie}="

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(name, value) for name, value in headers if name.lower() != "cache-control"]
            if not any(name.lower() == "set-cookie" and value.startswith(own) for name, value in kept):
                kept.append(("Set-Cookie", self._clearing_cookie))
            return start_response(status, [*kept, ("Cache-Control", "private, no-cache")], exc_info)

        return start

    def under_attack(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Every cookie ignored; public pages from the cache, a few renders a second; the rest closed."""
        environ[UNDER_ATTACK] = True
        endpoint = self.endpoint(environ, environ.get("REQUEST_METHOD", "GET"))
        if endpoint in OPEN_ENDPOINTS:
            return self.app(environ, start_response)  # a signed-in admin turns the switch off
        environ.pop("HTTP_COOKIE", None)
        if endpoint in PASS_ENDPOINTS:
            return self.app(environ, start_response)
        found = self.lookup(environ, endpoint, None) if environ.get("REQUEST_METHOD") in ("GET", "HEAD") else None
        if found is None or endpoint is None:
            return self.close(environ, start_response)
        key, policy, tags = found
        stamp = self.stamp(tags)
        entry, now = self.store.get(key), time.time()
        old = entry is None or entry.age(now) >= ATTACK_SECONDS or entry.stamp != stamp
        if old and self.budgets[endpoint].take():
            rendered = self.render(environ, key, policy, tags, stamp)
            if not rendered.storable and entry is None:  # a 404, say: as Flask answered it
                return rendered.respond(environ, start_response)
            entry = self.store.get(key) or entry
        if entry is None:
            return self.close(environ, start_response)
        return self.serve(entry, environ, start_response, now=now, s_maxage=ATTACK_SECONDS, vary="Accept-Language")

    def close(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The closed page, in the browser's language (cookies are ignored under attack)."""
        locale = choose_locale(None, environ.get("HTTP_ACCEPT_LANGUAGE"), self.locales, self.default_locale)
        return self.closed(environ, start_response, locale)

    def lookup(self, environ: dict[str, Any], endpoint: str | None, values: Mapping[str, Any] | None = None,
               lang_cookie: str | None = None) -> tuple[str, Policy, tuple[str, ...]] | None:
        """The cache key of the public page ``endpoint`` answers (with the URL's ``values``), its policy and
        its tags; None when it is not one.

        Rewrites ``QUERY_STRING`` to the declared arguments: what renders is exactly what the key says."""
        policy = self.policies.get(endpoint) if endpoint else None
        if policy is None:
            return None
        if values is None and policy.tags:
            values = self.match(environ)[1]
        tags = policy.tags_for(values or {})
        pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=False)
        if any(name in policy.unless for name, value in pairs if value.strip()):
            return None
        kept: dict[str, str] = {}
        for name, value in pairs:
            if name in policy.args:
                kept.setdefault(name, value)
        query = urlencode(sorted(kept.items()))
        environ["QUERY_STRING"] = query
        locale = choose_locale(lang_cookie, environ.get("HTTP_ACCEPT_LANGUAGE"), self.locales, self.default_locale)
        return f"{locale}|{environ.get('PATH_INFO', '/')}|{query}", policy, tags

    def endpoint(self, environ: dict[str, Any], method: str = "GET") -> str | None:
        return self.match(environ, method)[0]

    def match(self, environ: dict[str, Any], method: str = "GET") -> tuple[str | None, Mapping[str, Any]]:
        """The endpoint the URL leads to and the URL's values (None, {} when none)."""
        try:
            endpoint, values = self.flask_app.url_map.bind_to_environ(environ).match(method=method)
        except (HTTPException, RequestRedirect):
            return None, {}
        return str(endpoint), values

    def stamp(self, tags: tuple[str, ...]) -> tuple[int, ...] | None:
        """The generations of ``tags`` now; None when unknown (nothing kept is served, nothing is kept)."""
        return self.generations.read(tags) if tags else ()

    def render(self, environ: dict[str, Any], key: str, policy: Policy, tags: tuple[str, ...] = (),
               stamp: tuple[int, ...] | None = None) -> Rendered:
        """Flask's answer, kept when Flask made it public (with ``stamp``, read before it rendered)."""
        if stamp is None:
            stamp = self.stamp(tags)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured.update(status=status, headers=headers)
            return lambda _data: None

        environ = {**environ, "REQUEST_METHOD": "GET"}  # a HEAD fills the cache as its GET would
        body = _drain(self.app(environ, capture))
        rendered = Rendered(captured["status"], list(captured["headers"]), body)
        if rendered.storable and stamp is not None:
            kept = tuple((n, v) for n, v in rendered.headers if n.lower() not in _RECOMPUTED)
            etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
            self.store.put(key, Entry(rendered.status, kept, body, time.time(), policy.s_maxage, etag, stamp))
        return rendered

    def serve(self, entry: Entry, environ: dict[str, Any], start_response: Callable[..., Any], *, now: float,
              s_maxage: int, vary: str) -> Iterable[bytes]:
        headers = [*entry.headers, ("Cache-Control", f"public, max-age=0, s-maxage={s_maxage}"), ("Vary", vary),
                   ("Age", str(entry.age(now))), ("ETag", entry.etag), ("X-Page-Cache", "hit")]
        if entry.etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            start_response("304 Not Modified", [h for h in headers if h[0] != "Content-Type"])
            return []
        start_response(entry.status, [*headers, ("Content-Length", str(len(entry.body)))])
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [entry.body]


def _without_cookie(header: str, name: str) -> str:
    """The Cookie header without the cookie ``name`` (the others, the language's among them, as sent)."""
    return "; ".join(part.strip() for part in header.split(";") if part.split("=", 1)[0].strip() != name)


def _drain(body: Iterable[bytes]) -> bytes:
    try:
        return b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()

