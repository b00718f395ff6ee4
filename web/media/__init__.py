"""The resize endpoint, mounted beside the application so that a variant costs no session, no database
and no rate-limit bookkeeping (docs/media.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

PREFIX = "/media/"


def mount(app: Flask) -> Flask:
    """Send ``/media/...`` to a bare Flask app holding only the media blueprint; the rest to ``app``.

    Flask opens the session before routing: only a separate app keeps a browser's session cookie from
    costing a session lookup (and a ``Set-Cookie``) on every image of a page."""
    from engagement.media import service
    from web.media.views import bp

    media_app = Flask(__name__)
    media_app.extensions["media"] = service.library().variants
    media_app.register_blueprint(bp)
    inner = app.wsgi_app

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            return media_app.wsgi_app(environ, start_response)
        return inner(environ, start_response)

    app.wsgi_app = dispatch  # type: ignore[method-assign]
    app.extensions["media_app"] = media_app
    return media_app
