"""The volunteer workflow end to end in the browser's shoes: an adult and a minor sign up."""

from __future__ import annotations

from tests.functional.helpers import (
    AVAILABILITY,
    GUARDIAN,
    IDENTITY,
    MINOR,
    URL,
    advance,
    confirm,
    field_attributes,
    instances,
    mails,
    state_of,
    text,
    transitions,
)


def test_adult_walks_identity_availability_summary_to_done(client, read):
    client.get(URL)
    assert state_of(client.last_html) == "identity"
    assert state_of(advance(client, IDENTITY)) == "availability"
    assert state_of(advance(client, AVAILABILITY)) == "summary"
    final = confirm(client)
    assert state_of(final) is None
    assert 'data-state="done"' in final
    assert "Merci\u00a0!" in text(final)
    session = read()
    [instance] = instances(session)
    assert instance.is_completed and instance.completed_at is not None
    assert instance.state == "done"
    assert instance.data["age"] == 30 and instance.data["missions"] == ["events", "digital"]
    assert instance.data["is_minor"] is False
    assert [(t.source, t.dest) for t in transitions(session, instance.id)] == [
        ("identity", "availability"), ("availability", "routing"), ("routing", "summary"), ("summary", "check"),
        ("check", "done")]


def test_adult_gets_exactly_one_welcome_mail(client, read):
    client.get(URL)
    for data in (IDENTITY, AVAILABILITY):
        advance(client, data)
    confirm(client)
    [message] = mails(read())
    assert message.status == "sent"
    assert message.to == ["camille@example.org"]
    assert message.template == "volunteer_welcome"
    assert "Camille" in message.subject


def test_minor_is_routed_to_guardian_before_summary(client, read):
    client.get(URL)
    advance(client, MINOR)
    guardian = advance(client, {"missions": ["canvassing"]})
    assert state_of(guardian) == "guardian"
    assert "responsable légal" in text(guardian)
    assert state_of(advance(client, GUARDIAN)) == "summary"
    final = confirm(client)
    assert 'data-state="done"' in final
    session = read()
    [instance] = instances(session)
    assert instance.is_completed
    assert instance.data["is_minor"] is True
    assert instance.data["guardian_email"] == "parent@example.org"
    assert instance.data["driving_licence"] is None  # hidden for a minor, so recorded as unanswered
    assert ("routing", "guardian") in [(t.source, t.dest) for t in transitions(session, instance.id)]
    [message] = mails(session)
    assert (message.status, message.to) == ("sent", ["lou@example.org"])
    assert "parent@example.org" in message.text_body


def test_minor_sees_no_driving_licence_question(client):
    client.get(URL)
    availability = advance(client, MINOR)
    assert state_of(availability) == "availability"
    assert field_attributes(availability, "driving_licence").split() == ["data-conditional", "hidden"]
    assert "hidden" not in field_attributes(availability, "phone").split()


def test_adult_sees_the_driving_licence_question(client):
    client.get(URL)
    availability = advance(client, IDENTITY)
    assert field_attributes(availability, "driving_licence").split() == ["data-conditional"]


def test_completed_instance_shows_the_final_page_again(client, read):
    client.get(URL)
    for data in (IDENTITY, AVAILABILITY):
        advance(client, data)
    confirm(client)
    again = client.get(URL)
    assert again.status_code == 200
    assert 'data-state="done"' in client.last_html
    assert len(instances(read())) == 1


def test_every_page_of_the_wizard_is_not_cached(client):
    response = client.get(URL)
    assert response.headers["Cache-Control"] == "no-store"
    response = client.post(URL, {**IDENTITY, "trigger": "next"})
    assert response.status_code == 303
    assert client.get(URL).headers["Cache-Control"] == "no-store"
