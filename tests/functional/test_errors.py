"""Refusals and error pages: wrong trigger, missing CSRF token, unknown workflow, server errors."""

from __future__ import annotations

import pytest

from engagement.workflow.models import WorkflowTransition
from tests.functional.helpers import (
    IDENTITY,
    MINOR,
    URL,
    advance,
    count,
    input_value,
    state_of,
    text,
    untouched_start,
)


def test_trigger_not_leaving_the_state_answers_400_with_the_form(client, read):
    client.get(URL)
    response = client.post(URL, {**IDENTITY, "trigger": "confirm"})
    page = client.last_html
    assert response.status_code == 400
    assert state_of(page) == "identity"
    assert "Veuillez utiliser l’un des boutons du formulaire." in text(page)
    assert input_value(page, "first_name") == "Camille"
    untouched_start(read())


def test_trigger_of_another_step_changes_nothing_on_a_started_instance(client, read):
    client.get(URL)
    advance(client, IDENTITY)
    response = client.post(URL, {"missions": ["events"], "trigger": "route"})
    assert response.status_code == 400
    assert state_of(client.last_html) == "availability"
    assert count(read(), WorkflowTransition) == 1


def test_missing_trigger_answers_400(client):
    client.get(URL)
    assert client.post(URL, IDENTITY).status_code == 400


def test_missing_csrf_token_answers_a_friendly_400(client, read):
    client.get(URL)
    step = client.hidden("step")
    response = client.client.post(URL, data={**IDENTITY, "step": step, "trigger": "next"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Votre session a expiré ou le formulaire a été envoyé deux fois." in page
    assert "Traceback" not in page and "CSRF" not in page
    untouched_start(read())


def test_forged_csrf_token_is_refused(client, read):
    client.get(URL)
    response = client.post(URL, {**IDENTITY, "trigger": "next", "csrf_token": "forged"})
    assert response.status_code == 400
    untouched_start(read())


@pytest.mark.parametrize("path", [f"{URL}/back", f"{URL}/restart", f"{URL}/visibility", "/logout"])
def test_every_form_endpoint_requires_the_csrf_token(client, path):
    client.get(URL)
    response = client.client.post(path, data={"lang": "en"})
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


def test_unknown_workflow_is_a_friendly_404(client):
    response = client.get("/w/no_such_flow")
    assert response.status_code == 404
    assert "Cette page n’existe pas." in text(client.last_html)


def test_unknown_workflow_refuses_posts_with_404(client):
    client.get(URL)
    assert client.post("/w/no_such_flow", {"trigger": "next"}).status_code == 404


def test_wrong_method_is_a_friendly_405(client):
    response = client.get(f"{URL}/back")
    assert response.status_code == 405
    assert "<h1>" in client.last_html


def test_unexpected_error_shows_no_traceback_and_saves_nothing(client, read, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("Traceback (most recent call last): secret details")

    monkeypatch.setattr("web.wizard.views.runtime.submit", broken)
    client.get(URL)
    response = client.post(URL, {**IDENTITY, "trigger": "next"})
    page = client.last_html
    assert response.status_code == 500
    assert "Rien de ce que vous avez saisi n’est perdu" in text(page)
    assert "Traceback" not in page and "secret details" not in page
    untouched_start(read())


def _visibility(client, answers):
    response = client.post(f"{URL}/visibility", answers)
    assert response.status_code == 200
    return response.get_json()


def test_visibility_of_an_adults_conditional_fields(client):
    client.get(URL)
    advance(client, IDENTITY)
    shown = _visibility(client, {"missions": ["phoning"]})
    assert sorted(shown["visible"]) == ["driving_licence", "phone"]
    assert shown["hidden"] == []
    assert shown["required"] == ["phone"]  # phone banking needs a number: the marker follows


def test_visibility_hides_the_driving_licence_from_a_minor(client):
    client.get(URL)
    advance(client, MINOR)
    assert _visibility(client, {"missions": ["events"]}) == {"visible": ["phone"], "hidden": ["driving_licence"],
                                                             "required": []}


def test_visibility_on_a_step_without_conditions_is_empty(client):
    client.get(URL)
    assert _visibility(client, IDENTITY) == {"visible": [], "hidden": [], "required": []}


def test_health_and_readiness_probes(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"]["database"] == "ok" and ready.get_json()["down"] == []
