"""Flask-Limiter's app-wide hook (web/extensions.py): skipped while only decorated routes are limited, which
still are; it runs again as soon as an app-wide (default) limit is configured."""

from __future__ import annotations

from flask import Flask
from flask_limiter.util import get_remote_address

from web.extensions import RouteLimiter


def _app(limiter: RouteLimiter) -> Flask:
    app = Flask(__name__)
    app.config.update(RATELIMIT_STORAGE_URI="memory://")
    limiter.init_app(app)

    @app.get("/limited")
    @limiter.limit("2 per minute")
    def limited() -> str:
        return "ok"

    @app.get("/open")
    def open_page() -> str:
        return "ok"

    return app


def test_decorated_routes_are_limited_without_the_app_wide_hook() -> None:
    limiter = RouteLimiter(key_func=get_remote_address, default_limits=[])
    client = _app(limiter).test_client()

    assert not limiter.limits_every_request()
    assert [client.get("/limited").status_code for _ in range(3)] == [200, 200, 429]
    assert {client.get("/open").status_code for _ in range(5)} == {200}


def test_a_default_limit_brings_the_app_wide_hook_back() -> None:
    limiter = RouteLimiter(key_func=get_remote_address, default_limits=["2 per minute"])
    client = _app(limiter).test_client()

    assert limiter.limits_every_request()
    assert [client.get("/open").status_code for _ in range(3)] == [200, 200, 429]
