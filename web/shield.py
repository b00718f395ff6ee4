"""Cheap refusals, before Flask builds a request: what a flood sends never opens a session, touches
the database or renders a template.

`Shield` is plain WSGI and wraps everything else (``Shield(ProxyFix(flask_app.wsgi_app))``): it reads
two headers and answers a static 403. WordPress sites verifying a pingback announce themselves
(``User-Agent: WordPress/6.4; https://blog.example; verifying pingback from 203.0.113.9``), and
relays of such floods add ``X-Pingback-Forwarded-For``; nobody legitimate sends either here.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

PINGBACK_AGENT = re.compile(r"wordpress/[^;]*;.*verifying pingback", re.IGNORECASE)
BODY = b"Forbidden\n"
HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(BODY))),
           ("Cache-Control", "no-store"), ("Connection", "close")]  # gunicorn's sync workers close anyway


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
        return self.app(environ, start_response)


def is_pingback(environ: dict[str, Any]) -> bool:
    """Whether the request is a pingback verification or relays one."""
    if "HTTP_X_PINGBACK_FORWARDED_FOR" in environ:
        return True
    agent = environ.get("HTTP_USER_AGENT", "")
    return "ingback" in agent and PINGBACK_AGENT.search(agent) is not None  # the regex only for suspects


def wrap(app: WSGIApp, trusted_proxies: int) -> Shield:
    """The WSGI chain in front of Flask: the shield, then ProxyFix only when proxies are trusted.

    With no trusted proxy, ``X-Forwarded-*`` are ignored: ``request.remote_addr`` (and every limit
    counted by client address) is the address that connected, which a client cannot forge."""
    if trusted_proxies > 0:
        # The host is not taken from X-Forwarded-Host: ingresses pass the Host header through as it came.
        app = ProxyFix(app, x_for=trusted_proxies, x_proto=trusted_proxies, x_host=0, x_port=0, x_prefix=0)
    return Shield(app)
