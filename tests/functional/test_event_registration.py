"""Registering for an event through workflows/event_registration.yml and the public event pages:
the visitor's details form, the member's one click, the waitlist, closed events, the cancel link,
the .ics and the list's filters. Real forms with CSRF, through the Flask test client."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.db import transaction, utcnow
from engagement.events import registration, service
from engagement.events.models import Event, EventRegistration
from engagement.events.registration import Person
from engagement.events.service import EventInput
from engagement.mail.models import MailMessage
from tests.functional.helpers import in_wizard, instances, mails, named_controls, state_of, summary_links, text
from tests.functional.invitation_steps import local, log_in, make_user
from web.cli import main

URL = "/w/event_registration"
WORKFLOW = "event_registration"
PARIS = {"street": "12 rue de la Paix", "postal_code": "75002", "city": "75102",
         "city_name": "Paris 2e Arrondissement", "country": "FR"}
AJACCIO = {"street": "1 cours Napoléon", "postal_code": "20000", "city": "2A004", "city_name": "Ajaccio",
           "country": "FR"}
LYON = {"street": "3 place Bellecour", "postal_code": "69002", "city": "69382",
        "city_name": "Lyon 2e Arrondissement", "country": "FR"}
VISITOR = {"first_name": "Camille", "last_name": "Martin", "email": "camille@example.org", "postal_code": "75011",
           "terms": "y"}
CANCEL_LINK = re.compile(r"http://\S+/events/registrations/[A-Za-z0-9_.\-]+/cancel")


# --- Data and page readers -------------------------------------------------------------------------

def create_event(app: Any, name: str = "Réunion publique à Paris", *, capacity: int | None = 30,
                 taken: int = 0, starts_in: timedelta = timedelta(days=7), hours: int = 2,
                 address: dict[str, str] | None = PARIS, **changes: Any) -> str:
    """An event (its slug) starting ``starts_in`` from now, ``taken`` of its seats taken by seat<n>@."""
    begins = utcnow().replace(microsecond=0) + starts_in
    data = EventInput(name=name, description="Ordre du jour : la ville.", begins_at=begins,
                      ends_at=begins + timedelta(hours=hours), address=address, capacity=capacity,
                      category="meeting", **changes)
    factory = app.extensions["engagement"].sessions
    with transaction(factory) as session:
        event = service.create(session, data, organizer_id=None, now=utcnow())
        slug, event_id = event.slug, event.id
        for n in range(taken):
            assert registration.place(session, event_id, Person(f"seat{n}@example.org", "Place", f"N{n}"),
                                      waitlist=False, now=utcnow(), locale="fr") == "registered"
    return slug


def cancel_event(app: Any, slug: str) -> None:
    with transaction(app.extensions["engagement"].sessions) as session:
        service.cancel(session, service.by_slug(session, slug), utcnow())


def event_of(session: Session, slug: str) -> Event:
    return session.scalar(select(Event).where(Event.slug == slug).execution_options(populate_existing=True))


def rows(session: Session, slug: str) -> list[EventRegistration]:
    event = event_of(session, slug)
    return list(session.scalars(select(EventRegistration).where(EventRegistration.event_id == event.id)
                                .order_by(EventRegistration.id).execution_options(populate_existing=True)))


def statuses(session: Session, slug: str) -> dict[str, str]:
    return {row.email: row.status for row in rows(session, slug)}


def mails_to(session: Session, email: str) -> list[MailMessage]:
    return [m for m in mails(session) if m.to == [email]]


def final_state(page: str) -> str | None:
    """The ``data-state`` of a closing page's heading."""
    found = re.search(r'<h1 data-state="([^"]+)"', page)
    return found.group(1) if found else None


def buttons(page: str) -> list[str]:
    """The triggers of the step form's buttons, in order."""
    form = re.search(r'<form method="post"[^>]*data-state="[^"]*".*?</form>', page, re.S)
    assert form, "no step form on the page"
    return re.findall(r'<button type="submit" name="trigger" value="([^"]+)"', form.group(0))


def subtitle(page: str) -> str | None:
    found = re.search(r'<p class="subtitle">([^<]*)</p>', page)
    return text(found.group(1)) if found else None


def english(client: Any) -> Any:
    """The client asks for English pages (the event pages' own texts, whatever French has so far)."""
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def open_registration(client: Any, slug: str) -> str:
    """Follow an event's "Register" link as a browser would: 303 to the wizard, then its page."""
    response = client.get(f"/events/{slug}/register")
    assert response.status_code == 303, text(client.last_html)[:1500]
    assert in_wizard(response.headers["Location"], URL)
    page = client.get(URL)
    assert page.status_code == 200
    return client.last_html


def press(client: Any, trigger: str, data: dict[str, Any] | None = None) -> str:
    """Submit the step shown with ``trigger``; the answer is a redirect to the wizard, then its page."""
    response = client.post(URL, {**(data or {}), "trigger": trigger})
    assert response.status_code == 303, text(client.last_html)[:2000]
    assert in_wizard(response.headers["Location"], URL)
    client.get(URL)
    return client.last_html


# --- The visitor's path ----------------------------------------------------------------------------

def test_a_visitor_registers_end_to_end(client, app, read):
    slug = create_event(app, capacity=10)
    page = open_registration(client, slug)
    assert state_of(page) == "details"
    assert subtitle(page) == "Réunion publique à Paris"
    assert buttons(page) == ["register"]
    assert [name for _tag, _kind, name in named_controls(page)] == [
        "csrf_token", "step", "first_name", "last_name", "email", "postal_code", "terms"]

    closing = press(client, "register", VISITOR)
    assert final_state(closing) == "registered"
    assert "Vous êtes inscrit\u00a0!" in text(closing)
    assert subtitle(closing) == "Réunion publique à Paris"

    session = read()
    [row] = rows(session, slug)
    assert (row.email, row.first_name, row.last_name, row.postal_code, row.status, row.user_id) == (
        "camille@example.org", "Camille", "Martin", "75011", "registered", None)
    assert event_of(session, slug).seats_taken == 1
    [message] = mails(session)
    assert message.to == ["camille@example.org"] and message.template == "event_registered"
    assert "Réunion publique à Paris" in message.subject
    [attachment] = message.attachments
    assert attachment["filename"].endswith(".ics") and attachment["filename"] == f"{slug}.ics"
    assert attachment["content_type"].split(";")[0] == "text/calendar"
    assert "BEGIN:VEVENT" in attachment["content"] and "STATUS:CONFIRMED" in attachment["content"]
    assert CANCEL_LINK.search(message.text_body), message.text_body
    [instance] = instances(session, WORKFLOW)
    assert instance.is_completed and instance.state == "registered"
    assert instance.data["event"] == slug


def test_an_empty_details_form_gives_four_errors_and_records_nothing(client, app, read):
    slug = create_event(app)
    open_registration(client, slug)
    response = client.post(URL, {"trigger": "register"})
    assert response.status_code == 422
    page = client.last_html
    assert state_of(page) == "details"
    assert summary_links(page) == ["first_name", "last_name", "email", "terms"]
    assert len(re.findall(r'<p class="error" id="[^"]+-error">', page)) == 4
    session = read()
    assert rows(session, slug) == [] and mails(session) == []
    assert event_of(session, slug).seats_taken == 0
    [instance] = instances(session, WORKFLOW)
    assert instance.state == "details" and not instance.is_completed


def test_a_visitor_without_a_postal_code_registers(client, app, read):
    slug = create_event(app)
    open_registration(client, slug)
    closing = press(client, "register", {**VISITOR, "postal_code": ""})
    assert final_state(closing) == "registered"
    [row] = rows(read(), slug)
    assert row.postal_code == ""


def test_registering_twice_with_the_same_email_updates_the_one_registration(client, app, read):
    slug = create_event(app, capacity=10)
    open_registration(client, slug)
    assert final_state(press(client, "register", VISITOR)) == "registered"
    page = open_registration(client, slug)  # the first registration is over: a fresh form
    assert state_of(page) == "details"
    again = {**VISITOR, "first_name": "Camila", "last_name": "Martins", "email": "Camille@Example.ORG"}
    assert final_state(press(client, "register", again)) == "registered"
    session = read()
    [row] = rows(session, slug)
    assert (row.email, row.first_name, row.last_name, row.status) == (
        "camille@example.org", "Camila", "Martins", "registered")
    assert event_of(session, slug).seats_taken == 1
    assert len(instances(session, WORKFLOW)) == 2


def test_opening_another_event_sets_the_registration_in_progress_aside(client, app, read):
    first = create_event(app, "Réunion à Paris")
    second = create_event(app, "Débat à Ajaccio", address=AJACCIO)
    open_registration(client, first)
    assert state_of(open_registration(client, first)) == "details"  # the same event again: the same instance
    assert len(instances(read(), WORKFLOW)) == 1

    page = open_registration(client, second)
    assert state_of(page) == "details" and subtitle(page) == "Débat à Ajaccio"
    session = read()
    old, new = instances(session, WORKFLOW)
    assert old.data["event"] == first and old.abandoned_at is not None
    assert new.data["event"] == second and new.abandoned_at is None and new.state == "details"

    assert final_state(press(client, "register", VISITOR)) == "registered"
    session = read()
    assert statuses(session, second) == {"camille@example.org": "registered"}
    assert rows(session, first) == []


# --- The member's one click ------------------------------------------------------------------------

def test_a_member_registers_in_one_click(client, app, read):
    user_id = make_user(app, "Dominique@Example.org", first_name="Dominique", last_name="Durand")
    log_in(client, "dominique@example.org")
    slug = create_event(app, capacity=10)
    page = open_registration(client, slug)
    assert state_of(page) == "confirm"
    assert subtitle(page) == "Réunion publique à Paris"
    assert named_controls(page) == [("input", "hidden", "csrf_token"), ("input", "hidden", "step")]
    assert buttons(page) == ["register"]

    closing = press(client, "register")
    assert final_state(closing) == "registered"
    session = read()
    [row] = rows(session, slug)
    assert (row.user_id, row.email, row.first_name, row.last_name, row.status) == (
        user_id, "dominique@example.org", "Dominique", "Durand", "registered")
    assert event_of(session, slug).seats_taken == 1
    assert [m.template for m in mails_to(session, "dominique@example.org")] == ["event_registered"]


def test_a_member_on_a_full_event_joins_the_waitlist_in_two_clicks(client, app, read):
    user_id = make_user(app, "dominique@example.org")
    log_in(client, "dominique@example.org")
    slug = create_event(app, capacity=2, taken=2)
    open_registration(client, slug)
    page = press(client, "register")
    assert state_of(page) == "full" and buttons(page) == ["join_waitlist"]
    assert final_state(press(client, "join_waitlist")) == "waitlisted"
    [row] = [r for r in rows(read(), slug) if r.user_id == user_id]
    assert row.status == "waitlisted"


# --- Full events and the waitlist ------------------------------------------------------------------

def test_a_full_event_offers_the_waitlist_and_joining_it_waitlists(client, app, read):
    slug = create_event(app, capacity=3, taken=3)
    open_registration(client, slug)
    page = press(client, "register", VISITOR)
    assert state_of(page) == "full"
    assert buttons(page) == ["join_waitlist"]
    assert "Rejoindre la liste d’attente" in text(page)
    assert [name for _tag, _kind, name in named_controls(page)] == ["csrf_token", "step"]
    session = read()
    assert "camille@example.org" not in statuses(session, slug)  # "full" records nothing
    assert mails_to(session, "camille@example.org") == []

    closing = press(client, "join_waitlist")
    assert final_state(closing) == "waitlisted"
    session = read()
    assert statuses(session, slug)["camille@example.org"] == "waitlisted"
    assert event_of(session, slug).seats_taken == 3
    assert [m.template for m in mails_to(session, "camille@example.org")] == ["event_waitlisted"]


def test_a_seat_freed_meanwhile_goes_to_whoever_joins_the_waitlist(client, app, read):
    slug = create_event(app, capacity=1, taken=1)
    open_registration(client, slug)
    assert state_of(press(client, "register", VISITOR)) == "full"
    with transaction(app.extensions["engagement"].sessions) as session:
        seat = next(r for r in rows(session, slug) if r.email == "seat0@example.org")
        registration.cancel(session, seat.id, utcnow())
    assert final_state(press(client, "join_waitlist")) == "registered"
    assert statuses(read(), slug)["camille@example.org"] == "registered"


# --- Closed events ---------------------------------------------------------------------------------

@pytest.mark.parametrize("closed", ["cancelled", "finished"])
def test_a_closed_event_refuses_registration_with_a_clear_page(client, app, read, closed):
    english(client)
    if closed == "cancelled":
        slug = create_event(app, "Réunion annulée")
        cancel_event(app, slug)
    else:
        slug = create_event(app, "Réunion passée", starts_in=-timedelta(hours=3), hours=2)
    response = client.get(f"/events/{slug}/register")
    assert response.status_code == 410
    assert response.headers["Cache-Control"] == "no-store"
    page = text(client.last_html)
    assert "<h1>Registration is closed</h1>" in page
    assert ("“Réunion annulée” was cancelled." if closed == "cancelled" else "“Réunion passée” is over.") in page
    assert 'href="/events"' in page
    assert instances(read(), WORKFLOW) == []

    detail = client.get(f"/events/{slug}")
    assert detail.status_code == 200
    page = text(client.last_html)
    assert "Registration is closed." in page
    assert f'href="/events/{slug}/register"' not in page
    assert ("This event is cancelled." in page) == (closed == "cancelled")


def test_an_event_cancelled_while_a_visitor_fills_the_form_refuses_the_registration(client, app, read):
    english(client)
    slug = create_event(app)
    open_registration(client, slug)
    cancel_event(app, slug)
    response = client.post(URL, {**VISITOR, "trigger": "register"})
    assert response.status_code == 422
    assert state_of(client.last_html) == "details"  # the step again, the answers kept, with the reason
    assert "Registration for this event is closed" in text(client.last_html)
    session = read()
    assert rows(session, slug) == [] and mails(session) == []


def test_an_open_event_detail_page_links_to_registration(client, app):
    english(client)
    slug = create_event(app, capacity=5, taken=2)
    assert client.get(f"/events/{slug}").status_code == 200
    page = text(client.last_html)
    assert f'href="/events/{slug}/register"' in page and "3 seats left" in page
    full = create_event(app, "Complet", capacity=2, taken=2)
    client.get(f"/events/{full}")
    assert "Join the waitlist" in text(client.last_html)


def test_an_unknown_event_is_not_found(client):
    assert client.get("/events/nothing-here").status_code == 404
    assert client.get("/events/nothing-here/register").status_code == 404
    assert client.get("/events/nothing-here.ics").status_code == 404


# --- The cancel link -------------------------------------------------------------------------------

def test_the_cancel_link_asks_then_cancels_and_promotes_the_first_waitlisted(client, app, read,
                                                                             new_client: Callable[[], Any]):
    english(client)
    slug = create_event(app, "Réunion complète", capacity=1)
    open_registration(client, slug)
    assert final_state(press(client, "register", VISITOR)) == "registered"
    for n, email in enumerate(["first@example.org", "second@example.org"]):
        other = new_client()
        open_registration(other, slug)
        assert state_of(press(other, "register", {**VISITOR, "email": email, "first_name": f"W{n}"})) == "full"
        assert final_state(press(other, "join_waitlist")) == "waitlisted"
    [confirmation] = mails_to(read(), "camille@example.org")
    link = local(CANCEL_LINK.search(confirmation.text_body).group(0))

    asking = client.get(link)
    assert asking.status_code == 200 and asking.headers["Cache-Control"] == "no-store"
    page = text(client.last_html)
    assert "Give up your place?" in page and "Réunion complète" in page
    assert re.search(rf'<form method="post" action="{re.escape(link)}"', page)
    assert statuses(read(), slug)["camille@example.org"] == "registered"  # a GET changes nothing

    done = client.post(link)
    assert done.status_code == 200
    assert "Your place is given up" in text(client.last_html)
    session = read()
    assert statuses(session, slug) == {"camille@example.org": "cancelled", "first@example.org": "registered",
                                       "second@example.org": "waitlisted"}
    assert event_of(session, slug).seats_taken == 1
    promoted = [m for m in mails_to(session, "first@example.org") if m.template == "event_promoted"]
    assert len(promoted) == 1 and promoted[0].attachments[0]["filename"].endswith(".ics")
    assert [m.template for m in mails_to(session, "second@example.org")] == ["event_waitlisted"]

    # The link again: still a friendly page, nothing more happens.
    mail_count = len(mails(session))
    assert client.get(link).status_code == 200
    assert "Your place is given up" in text(client.last_html)
    assert client.post(link).status_code == 200
    session = read()
    assert len(mails(session)) == mail_count
    assert statuses(session, slug)["second@example.org"] == "waitlisted"


def test_a_tampered_cancel_token_is_a_friendly_404(client, app, read):
    english(client)
    slug = create_event(app)
    open_registration(client, slug)
    press(client, "register", VISITOR)
    link = local(CANCEL_LINK.search(mails(read())[0].text_body).group(0))
    token = link.split("/")[3]
    tampered = link.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    for url in (tampered, "/events/registrations/garbage/cancel"):
        response = client.get(url)
        assert response.status_code == 404
        assert "This link is not valid" in text(client.last_html)
        assert client.post(url).status_code == 404
    assert statuses(read(), slug) == {"camille@example.org": "registered"}


# --- The .ics and the list -------------------------------------------------------------------------

def test_the_calendar_file_is_text_calendar(client, app):
    slug = create_event(app, "Réunion d'été")
    response = client.get(f"/events/{slug}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{slug}.ics"'
    body = response.get_data()
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and b"SUMMARY:R\xc3\xa9union d'\xc3\xa9t\xc3\xa9\r\n" in body


def listed(client: Any, query: str = "") -> list[str]:
    assert client.get(f"/events{query}").status_code == 200
    return [text(name) for name in re.findall(r'<h2><a href="/events/[^"]+">([^<]+)</a></h2>', client.last_html)]


def test_the_list_filters_by_postal_code_and_department_and_hides_cancelled_and_past_events(client, app):
    create_event(app, "Paris", address=PARIS, starts_in=timedelta(days=1))
    create_event(app, "Ajaccio", address=AJACCIO, starts_in=timedelta(days=2))
    create_event(app, "Lyon", address=LYON, starts_in=timedelta(days=3))
    create_event(app, "Paris passé", address=PARIS, starts_in=-timedelta(days=1))
    cancel_event(app, create_event(app, "Paris annulé", address=PARIS, starts_in=timedelta(days=4)))
    create_event(app, "Paris en cours", address=PARIS, starts_in=-timedelta(hours=1), hours=3)

    assert listed(client) == ["Paris en cours", "Paris", "Ajaccio", "Lyon"]
    assert listed(client, "?postal_code=75002") == ["Paris en cours", "Paris"]
    assert listed(client, "?postal_code=69002") == ["Lyon"]
    assert listed(client, "?department=2A") == ["Ajaccio"]
    assert listed(client, "?department=2a") == ["Ajaccio"]
    assert listed(client, "?department=69") == ["Lyon"]
    assert listed(client, "?department=13") == []
    assert listed(client, "?postal_code=+75002+&department=75") == ["Paris en cours", "Paris"]
    assert 'value="75002"' in client.last_html  # the filter is shown, trimmed


def test_the_list_pages_and_survives_odd_parameters(client, app):
    for n in range(3):
        create_event(app, f"Réunion {n}", starts_in=timedelta(days=1, hours=n))
    assert listed(client, "?page=abc") == ["Réunion 0", "Réunion 1", "Réunion 2"]
    assert listed(client, "?page=-4") == ["Réunion 0", "Réunion 1", "Réunion 2"]
    assert listed(client, "?page=2") == []



# --- Reminders without Celery ----------------------------------------------------------------------

@pytest.fixture
def remind_command(env: dict[str, str], settings: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[], Result]:
    """``engagement events remind`` in process, with the deployment's environment (mail relayed in process)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    return lambda: CliRunner().invoke(main, ["events", "remind"], catch_exceptions=False)


def test_the_remind_command_sends_each_due_reminder_once(remind_command, app, read):
    soon = create_event(app, "Ce soir", capacity=5, taken=2, starts_in=timedelta(hours=3))
    create_event(app, "Dans trois jours", capacity=5, taken=3, starts_in=timedelta(days=3))
    first = remind_command()
    assert first.exit_code == 0, first.output
    assert "2 reminder(s) sent" in first.stderr
    second = remind_command()
    assert second.exit_code == 0 and "0 reminder(s) sent" in second.stderr
    session = read()
    reminders = [m for m in mails(session) if m.template == "event_reminder"]
    assert sorted(m.to[0] for m in reminders) == ["seat0@example.org", "seat1@example.org"]
    assert {m.status for m in reminders} == {"sent"}
    assert all("Ce soir" in m.subject + m.text_body for m in reminders)
    assert all(row.reminded_at is not None for row in rows(session, soon))


def test_the_dev_mailbox_shows_the_confirmation_and_serves_its_ics(client, app, read):
    slug = _dev_event(app)
    client.get(f"/events/{slug}/register")
    client.get("/w/event_registration")
    assert client.post("/w/event_registration", {"first_name": "Lou", "last_name": "Martin", "email": "lou@example.org",
                                                 "terms": "y", "trigger": "register"}).status_code == 303
    [message] = mails(read())
    client.get(f"/dev/mailbox/{message.id}")
    assert f"{slug}.ics" in client.last_html
    response = client.get(f"/dev/mailbox/{message.id}/attachments/0")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.get_data(as_text=True).startswith("BEGIN:VCALENDAR")
    assert client.get(f"/dev/mailbox/{message.id}/attachments/1").status_code == 404


def _dev_event(app) -> str:
    from datetime import UTC, datetime, timedelta

    from engagement.db import transaction
    from engagement.events import service

    now = datetime.now(UTC)
    address = {"street": "1 rue de Rivoli", "postal_code": "75001", "city": "75101",
               "city_name": "Paris 1er Arrondissement", "country": "FR"}
    with transaction(app.extensions["engagement"].sessions) as session:
        return service.create(session, service.EventInput("Atelier", "", now + timedelta(days=2),
                                                          now + timedelta(days=2, hours=1), address=address),
                              None, now).slug
