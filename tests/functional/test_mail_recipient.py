"""A mail sent to an answer that is no address refuses the step (422, a notice), it does not fail (500).

Fixture workflow mail_answer.yml: the `contact` answer is a free `text` field, and the transition's
mail action sends to it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from engagement import PROJECT_ROOT
from engagement.mail.service import DELIVER_TOPIC
from engagement.outbox import OutboxMessage
from tests.functional.helpers import (
    count,
    in_wizard,
    input_value,
    instances,
    mails,
    state_of,
    text,
    transitions,
    untouched_start,
)

URL = "/w/mail_answer"
REFUSED_FR = "Une adresse e-mail de vos réponses ne peut pas recevoir de courriel. Veuillez la vérifier."
REFUSED_EN = "An email address in your answers cannot receive mail. Please check it."


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    env["ENGAGEMENT_WORKFLOWS_DIR"] = str(PROJECT_ROOT / "tests" / "fixtures" / "workflows" / "functional")
    return env


def notice(page: str) -> str | None:
    found = re.search(r'<div class="notice" role="status">([^<]*)</div>', page)
    return text(found.group(1)) if found else None


def send(client: Any, contact: str, **kwargs: Any) -> Any:
    return client.post(URL, {"friend_name": "Dominique", "contact": contact, "trigger": "send"}, **kwargs)


def assert_nothing_sent(read: Any) -> None:
    session = read()
    untouched_start(session, "mail_answer", "friend")  # no transition, the instance as the GET started it
    assert mails(session) == []
    assert count(session, OutboxMessage, OutboxMessage.topic == DELIVER_TOPIC) == 0  # (the site's pages are indexed)


@pytest.mark.parametrize("contact", ["pas une adresse", "dominique@", "dominique@example.org, nope", ","])
def test_answer_that_cannot_receive_mail_refuses_the_step_with_a_notice(client, read, contact):
    client.get(URL)
    assert state_of(client.last_html) == "friend"
    response = send(client, contact)
    page = client.last_html
    assert response.status_code == 422
    assert notice(page) == REFUSED_FR
    assert state_of(page) == "friend"
    assert input_value(page, "contact") == contact and input_value(page, "friend_name") == "Dominique"
    assert_nothing_sent(read)


def test_the_refusal_is_explained_in_english(client, read):
    headers = {"Accept-Language": "en"}
    client.get(URL, headers=headers)
    response = send(client, "not an address", headers=headers)
    assert response.status_code == 422
    assert notice(client.last_html) == REFUSED_EN
    assert_nothing_sent(read)


def test_a_corrected_address_then_goes_through_with_one_mail(client, read):
    client.get(URL)
    assert send(client, "dominique@").status_code == 422
    assert_nothing_sent(read)
    response = send(client, " Dominique@Example.org ")  # the same step token: the refusal used nothing up
    assert response.status_code == 303 and in_wizard(response.headers["Location"], URL)
    session = read()
    [instance] = instances(session, "mail_answer")
    assert instance.is_completed and instance.state == "sent"
    assert instance.data["told"] is True and instance.data["contact"] == "Dominique@Example.org"
    assert [(t.source, t.dest, t.trigger) for t in transitions(session)] == [("friend", "sent", "send")]
    [message] = mails(session)
    assert message.to == ["Dominique@example.org"] and message.subject == "Bonjour Dominique"


def test_workflow_that_cannot_start_answers_a_friendly_503_and_keeps_nothing(client, read):
    response = client.get("/w/stuck_start")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Ce formulaire ne peut pas être commencé pour le moment." in text(page)
    assert instances(read(), "stuck_start") == []
