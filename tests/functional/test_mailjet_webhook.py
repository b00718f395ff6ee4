"""Mailjet's event callback: authenticated, tolerant of batches, feeding the suppression list."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from engagement.config import load_settings
from engagement.mail import suppression
from engagement.mail.models import MailSuppression
from web.app import create_app

SECRET = "callback-secret"


@pytest.fixture
def hooked(env: dict[str, str], settings: Any) -> Iterator[Any]:
    app = create_app(load_settings({**env, "MAILJET_WEBHOOK_SECRET": SECRET}))
    app.config["TESTING"] = True
    yield app.test_client()
    app.extensions["engagement"].engine.dispose()


def basic(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"mailjet:{password}".encode()).decode()}


def test_events_are_recorded_with_the_right_secret(hooked, read):
    batch = [{"event": "bounce", "email": "hard@example.org", "hard_bounce": True},
             {"event": "spam", "email": "spam@example.org"}, {"event": "unknown", "email": "x@example.org"}]
    response = hooked.post("/webhooks/mailjet", json=batch, headers=basic(SECRET))
    assert response.status_code == 200 and response.get_json() == {"received": 3, "recorded": 2}
    hashes = set(read().scalars(select(MailSuppression.email_hash)))
    assert hashes == {suppression.digest("hard@example.org"), suppression.digest("spam@example.org")}


@pytest.mark.parametrize("headers", [{}, basic("wrong")])
def test_a_callback_without_the_secret_is_refused_and_records_nothing(hooked, read, headers):
    response = hooked.post("/webhooks/mailjet", json={"event": "spam", "email": "a@example.org"}, headers=headers)
    assert response.status_code == 401
    assert read().scalars(select(MailSuppression)).all() == []


def test_a_malformed_body_is_a_400(hooked):
    assert hooked.post("/webhooks/mailjet", data="not json", headers=basic(SECRET)).status_code == 400


def test_without_a_secret_configured_the_endpoint_does_not_exist(client):
    assert client.inner.client.post("/webhooks/mailjet", json={}).status_code == 404
