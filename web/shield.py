"""Cheap refusals, before Flask builds a request: what a flood sends never opens a session, touches
the database or renders a template.

`Shield` is plain WSGI and wraps everything else (``Shield(ProxyFix(flask_app.wsgi_app))``): it reads
a few headers and answers a static 403 or 400. WordPress sites verifying a pingback announce themselves
(``User-Agent: WordPress/6.4; https://blog.example; verifying pingback from 203.0.113.9``), and
relays of such floods add ``X-Pingback-Forwarded-For``; nobody legitimate sends either here.

A ``Host`` header that is not a host name (``a..b``, a label over 63 characters, a name over 253, a space, a
port that is not one) is a 400, as RFC 9112 (3.2) asks: Werkzeug would drop some of them silently and
refuse the others while binding its URL map, leaving Flask no URL adapter to build an error page with.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import get_host

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

PINGBACK_AGENT = re.compile(r"wordpress/[^;]*;.*verifying pingback", re.IGNORECASE)
BODY = b"Forbidden\n"
HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(BODY))),
           ("Cache-Control", "no-store"), ("Connection", "close")]  # gunicorn's sync workers close anyway
BAD_HOST_BODY = b"Bad Request\n"
BAD_HOST_HEADERS = [*(h for h in HEADERS if h[0] != "Content-Length"), ("Content-Length", str(len(BAD_HOST_BODY)))]
HOST_NAME_MAX = 253  # characters of a DNS name written with dots (RFC 1035's 255 octets on the wire)


class Shield:
    """Refuses pingback floods with a tiny 403, counted per process (``refused``)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.refused = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if is_pingback(environ):
            with self._lock:
                self.refused += 1
            start_response("403 Forbidden", HEADERS)
            return [BODY]
        if is_malformed_host(environ):
            start_response("400 Bad Request", BAD_HOST_HEADERS)
            return [BAD_HOST_BODY]
        return self.app(environ, start_response)


def is_pingback(environ: dict[str, Any]) -> bool:
    """Whether the request is a pingback verification or relays one."""
    if "HTTP_X_PINGBACK_FORWARDED_FOR" in environ:
        return True
    agent = environ.get("HTTP_USER_AGENT", "")
    return "ingback" in agent and PINGBACK_AGENT.search(agent) is not None  # the regex only for suspects


def is_malformed_host(environ: dict[str, Any]) -> bool:
    """Whether the request names a ``Host`` that is not a host name (no header at all, as in HTTP/1.0, is not).

    Werkzeug's own checks, in the order a request meets them: ``get_host`` answers "" for a value of invalid
    characters or port; the URL map's binding refuses a name IDNA cannot encode (an empty label, one over 63
    characters) with ``BadHost``; ``request.url`` fails on a ``xn--`` label IDNA cannot decode back."""
    if "HTTP_HOST" not in environ:
        return False
    host = get_host(environ)
    if not host:
        return True
    if host.startswith("["):  # an IPv6 literal, already matched by get_host's pattern
        return False
    name = host.lower().partition(":")[0]
    if len(name.rstrip(".")) > HOST_NAME_MAX:
        return True
    try:
        name.encode("idna").decode("idna")
    except UnicodeError:
        return True
    return False


def wrap(app: WSGIApp, trusted_proxies: int) -> Shield:
    """The WSGI chain in front of Flask: the shield, then ProxyFix only when proxies are trusted.

    With no trusted proxy, ``X-Forwarded-*`` are ignored: ``request.remote_addr`` (and every limit
    counted by client address) is the address that connected, which a client cannot forge."""
    if trusted_proxies > 0:
        # The host is not taken from X-Forwarded-Host: ingresses pass the Host header through as it came.
        app = ProxyFix(app, x_for=trusted_proxies, x_proto=trusted_proxies, x_host=0, x_port=0, x_prefix=0)
    return Shield(app)
