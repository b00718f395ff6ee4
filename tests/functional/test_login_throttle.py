"""After 5 failed log-ins in 10 minutes, for one address or from one client, even the right password waits."""

from __future__ import annotations

import uuid

from engagement.accounts import service
from engagement.db import transaction
from tests.functional.helpers import text

PASSWORD = "une phrase de passe solide"
LOCKED = "Trop de tentatives échouées\u00a0: attendez 10 minutes avant de réessayer."


def make_user(app) -> str:
    email = f"lou-{uuid.uuid4().hex[:8]}@example.org"  # counters may live in a shared Redis
    with transaction(app.extensions["engagement"].sessions) as session:
        service.create_user(session, email, password=PASSWORD)
    return email


def attempt(client, email: str, password: str):
    client.get("/login")
    response = client.post("/login", {"email": email, "password": password})
    return response.status_code, text(client.last_html)


def fail_five_times(client, email: str) -> None:
    for _ in range(5):
        status, page = attempt(client, email, "not the password at all")
        assert status == 422 and "Adresse e-mail ou mot de passe incorrect." in page


def test_four_failures_still_let_the_right_password_in(client, app):
    email = make_user(app)
    for _ in range(4):
        attempt(client, email, "not the password at all")
    assert attempt(client, email, PASSWORD)[0] == 303


def test_five_failures_lock_the_address_even_from_another_client(client, new_client, app):
    email = make_user(app)
    fail_five_times(client, email)
    status, page = attempt(new_client(), email, PASSWORD)  # another IP address, the right password
    assert status == 422 and LOCKED in page


def test_five_failures_lock_the_client_for_every_address(client, new_client, app):
    email, other = make_user(app), make_user(app)
    fail_five_times(client, f"nobody-{uuid.uuid4().hex[:6]}@example.org")
    status, page = attempt(client, other, PASSWORD)
    assert status == 422 and LOCKED in page
    assert attempt(new_client(), email, PASSWORD)[0] == 303  # others are not affected
