"""Security headers on every response, a wider style policy on the studio's diagram page only, and cookies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.functional.invitation_steps import log_in, make_user
from web.app import create_app
from web.headers import csp, policy

STRICT = ("default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; object-src 'none'; "
          "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize("url, status", [
    ("/", 200), ("/login", 200), ("/w/signup", 200), ("/events", 200), ("/search", 200),
    ("/api/cities?postal_code=94320", 200), ("/healthz", 200), ("/no/such/page", 404),
    ("/static/css/site.css", 200),
])
def test_every_response_carries_the_security_headers(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert response.headers["Content-Security-Policy"] == STRICT
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # only in production (behind TLS)


def test_a_refused_form_carries_them_too(client):
    response = client.client.post("/login", data={"email": "a@example.org"})  # no CSRF token
    assert response.status_code == 400 and response.headers["Content-Security-Policy"] == STRICT


def test_only_the_studio_diagram_page_allows_inline_styles(client, app):
    make_user(app, "orga@example.org", role="organizer")
    log_in(client, "orga@example.org")
    response = client.get("/organizer/workflows/signup")
    assert response.status_code == 200 and 'class="mermaid"' in response.get_data(as_text=True)
    found = directives(response.headers["Content-Security-Policy"])
    assert found["style-src"] == "'self' 'unsafe-inline'"  # Mermaid's <style> in the SVG it draws
    assert found["script-src"] == "'self'" and found["object-src"] == "'none'"
    editor = client.get("/organizer/workflows/editor")
    assert editor.status_code == 200 and editor.headers["Content-Security-Policy"] == STRICT


def test_an_unknown_directive_is_a_programming_error():
    with pytest.raises(ValueError, match="scripts-src"):
        csp(scripts_src="'self'")
    assert policy({"img-src": "'self'"}).startswith("default-src 'self'; img-src 'self'; script-src")


@pytest.fixture
def production_app(settings):
    app = create_app(replace(settings, env="production"))
    yield app
    app.extensions["engagement"].engine.dispose()


def test_production_adds_hsts_and_secure_cookies(production_app):
    client = production_app.test_client()
    response = client.get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("engagement_session=")
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in cookie.split(";")}
    assert production_app.config["REMEMBER_COOKIE_SECURE"] is True
    assert production_app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert production_app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_outside_production_cookies_are_not_secure_only(client):
    response = client.get("/login")
    parts = {part.strip() for part in response.headers["Set-Cookie"].split(";")}
    assert "Secure" not in parts and {"HttpOnly", "SameSite=Lax"} <= parts
