"""What is refused before Flask works (pingback floods), request size limits, and trusted proxies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace

import pytest
from flask import request, request_started
from flask_limiter.util import get_remote_address
from sqlalchemy import event

from engagement.config import ConfigError, load_settings
from web.app import create_app
from web.shield import Shield, is_pingback

PINGBACK = "WordPress/6.4.2; https://blog.example.org; verifying pingback from 203.0.113.9"


@contextmanager
def counting(app):
    """[Flask dispatches, database connections checked out] seen while the block runs."""
    seen = [0, 0]
    core = app.extensions["engagement"]

    def dispatched(_sender, **_extra):
        seen[0] += 1

    def checked_out(*_args):
        seen[1] += 1

    request_started.connect(dispatched, app)
    event.listen(core.engine, "checkout", checked_out)
    try:
        yield seen
    finally:
        request_started.disconnect(dispatched, app)
        event.remove(core.engine, "checkout", checked_out)


@pytest.mark.parametrize("agent", [
    PINGBACK,
    "wordpress/4.9; http://x.example; Verifying Pingback from 198.51.100.7",
    "WordPress/3.5.1; http://blog.example.com; verifying pingback from 192.0.2.1",
])
def test_a_pingback_user_agent_is_refused_before_flask(app, agent):
    with counting(app) as seen:
        response = app.test_client().get("/", headers={"User-Agent": agent})
    assert response.status_code == 403 and response.data == b"Forbidden\n"
    assert response.headers["Connection"] == "close" and "Set-Cookie" not in response.headers
    assert seen == [0, 0]
    assert app.wsgi_app.refused == 1


def test_a_relayed_pingback_header_is_refused_whatever_the_agent(app):
    with counting(app) as seen:
        response = app.test_client().post("/login", headers={"X-Pingback-Forwarded-For": "198.51.100.7"})
    assert response.status_code == 403 and seen == [0, 0]


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "WordPress/6.4.2; https://blog.example.org",  # WordPress fetching a page, not verifying a pingback
    "a blog post about pingback floods",
    "",
])
def test_other_visitors_are_served(app, agent):
    with counting(app) as seen:
        response = app.test_client().get("/", headers={"User-Agent": agent})
    assert response.status_code == 200 and seen[0] == 1
    assert app.wsgi_app.refused == 0
    assert not is_pingback({"HTTP_USER_AGENT": agent})


def test_a_flood_of_pingbacks_never_reaches_flask_while_pages_are_served(app):
    client = app.test_client

    def pingback(_):
        return client().get("/events", headers={"User-Agent": PINGBACK}).status_code

    with counting(app) as seen:
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(pingback, range(3000)))
        assert seen == [0, 0]
        assert app.test_client().get("/healthz").status_code == 200
    assert statuses == [403] * 3000 and app.wsgi_app.refused == 3000
    assert seen[0] == 1


def test_the_shield_wraps_the_whole_application(app):
    assert isinstance(app.wsgi_app, Shield)


def test_a_body_over_one_mebibyte_is_refused(client, app):
    response = app.test_client().post("/login", data={"email": "x" * (1024 * 1024 + 1)})
    assert response.status_code == 413
    assert app.config["MAX_FORM_MEMORY_SIZE"] == 512 * 1024 and app.config["MAX_FORM_PARTS"] == 300


def test_a_multipart_form_with_too_many_fields_is_refused(client):
    # (a urlencoded form is bounded by MAX_FORM_MEMORY_SIZE alone: Werkzeug counts parts of multipart ones)
    client.get("/login")
    response = client.post("/login", {f"field{n}": "x" for n in range(400)}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Ce que vous avez envoyé est trop volumineux." in response.get_data(as_text=True)


# --- trusted proxies ----------------------------------------------------------------------------

def test_without_trusted_proxies_a_forwarded_address_is_ignored(app):
    assert app.extensions["engagement"].settings.trusted_proxies == 0
    headers = {"X-Forwarded-For": "198.51.100.23", "X-Forwarded-Proto": "https"}
    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        app.preprocess_request()
        assert request.remote_addr == "10.1.2.3" and get_remote_address() == "10.1.2.3"
        assert request.scheme == "http"


def test_spoofed_forwarded_addresses_share_the_log_in_rate_limit_of_the_real_one(client):
    client.get("/login")
    statuses = []
    for n in range(11):  # "10 per minute" per client address
        response = client.post("/login", {"email": f"x{n}@example.org", "password": "nope"},
                               headers={"X-Forwarded-For": f"198.51.100.{n}"})
        statuses.append(response.status_code)
    assert statuses[:10] == [422] * 10 and statuses[10] == 429


def test_one_trusted_proxy_gives_the_address_it_saw(settings):
    app = create_app(replace(settings, trusted_proxies=1))
    try:
        headers = {"X-Forwarded-For": "203.0.113.50, 198.51.100.23", "X-Forwarded-Proto": "https"}
        seen = {}

        @app.get("/_whoami")
        def whoami():
            seen.update(addr=request.remote_addr, key=get_remote_address(), scheme=request.scheme)
            return ""

        app.test_client().get("/_whoami", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.9"})
        # the proxy appended what connected to it: the earlier entry is the client's claim, not believed
        assert seen == {"addr": "198.51.100.23", "key": "198.51.100.23", "scheme": "https"}
    finally:
        app.extensions["engagement"].engine.dispose()


@pytest.mark.parametrize("value", ["-1", "one", "9"])
def test_trusted_proxies_must_be_a_small_whole_number(env, value):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_settings({**env, "TRUSTED_PROXIES": value})


def test_trusted_proxies_default_to_none(env):
    assert load_settings(env).trusted_proxies == 0
    assert load_settings({**env, "TRUSTED_PROXIES": "2"}).trusted_proxies == 2
