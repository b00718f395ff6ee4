"""Cached public pages never show a stale event: a commit that changes one (a registration, a cancellation,
a promotion, an edit, a new event) renews every kept copy showing it at the next request, in every process
(another app on the same database and instance folder stands for another gunicorn worker or pod). Through
the real WSGI stack with the page cache on: Redis when REDIS_URL is set, the embedded store otherwise."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from engagement.db import transaction, utcnow
from engagement.events import registration, service
from engagement.events.registration import Person
from engagement.events.service import EventInput
from engagement.generations import LISTS, event_tag
from tests.functional.test_event_registration import (
    PARIS,
    VISITOR,
    create_event,
    open_registration,
    press,
    rows,
)
from web.app import create_app

SEATS = re.compile(r"(\d+) places? restantes?")


def anonymous(app: Any, path: str) -> Any:
    return app.test_client().get(path, headers={"Accept-Language": "fr"})


def seats_shown(app: Any, slug: str) -> int:
    found = SEATS.search(anonymous(app, f"/events/{slug}").get_data(as_text=True))
    assert found, "no seat count on the event page"
    return int(found.group(1))


def cached(app: Any, path: str) -> str:
    """Fetch ``path`` until it comes from the cache; its page."""
    for _ in range(3):
        response = anonymous(app, path)
        if response.headers.get("X-Page-Cache") == "hit":
            return str(response.get_data(as_text=True))
    raise AssertionError(f"{path} never came from the cache")


def take_seat(app: Any, slug: str, email: str) -> None:
    with transaction(app.extensions["engagement"].sessions) as session:
        event = service.by_slug(session, slug)
        assert event is not None
        registration.place(session, event.id, Person(email, "Alex", "Dupont"), waitlist=True, now=utcnow(),
                           locale="fr")


def test_the_seat_count_drops_at_the_next_request_after_a_registration(app, client):
    slug = create_event(app, capacity=5)
    cached(app, f"/events/{slug}")
    assert seats_shown(app, slug) == 5
    open_registration(client, slug)
    press(client, "register", VISITOR)  # a visitor, through the workflow and the real WSGI stack
    response = anonymous(app, f"/events/{slug}")
    assert "X-Page-Cache" not in response.headers and "4 places restantes" in response.get_data(as_text=True)
    assert "4 places restantes" in cached(app, f"/events/{slug}")  # kept again, with the new count


def test_another_process_sees_the_new_count_at_its_next_request(app, settings):
    other = create_app(settings)  # its own local copies (and its own store when embedded)
    slug = create_event(app, capacity=5)
    for each in (app, other):
        assert "5 places restantes" in cached(each, f"/events/{slug}")
    take_seat(app, slug, "first@example.org")
    assert seats_shown(other, slug) == 4 and seats_shown(app, slug) == 4
    other.extensions["engagement"].engine.dispose()


def test_a_cancellation_and_the_promotion_it_makes_renew_the_page(app, read):
    slug = create_event(app, capacity=1, taken=1)
    take_seat(app, slug, "waiting@example.org")
    assert "Complet" in cached(app, f"/events/{slug}")
    with transaction(app.extensions["engagement"].sessions) as session:
        seat = next(r for r in rows(session, slug) if r.email == "seat0@example.org")
        registration.cancel(session, seat.id, utcnow())
    assert {r.email: r.status for r in rows(read(), slug)}["waiting@example.org"] == "registered"
    assert "Complet" in anonymous(app, f"/events/{slug}").get_data(as_text=True)  # promoted: full again
    with transaction(app.extensions["engagement"].sessions) as session:
        seat = next(r for r in rows(session, slug) if r.email == "waiting@example.org")
        registration.cancel(session, seat.id, utcnow())
    assert seats_shown(app, slug) == 1


def test_a_new_event_is_listed_at_once_on_every_list_and_language(app):
    create_event(app, "Première réunion")
    pages = ["/", "/events", "/events?page=1"]
    for path in pages:
        cached(app, path)
    english = app.test_client().get("/events", headers={"Accept-Language": "en"})
    assert english.status_code == 200
    slug = create_event(app, "Atelier tout nouveau")
    for path in pages:
        assert f"/events/{slug}" in anonymous(app, path).get_data(as_text=True), path
    assert f"/events/{slug}" in app.test_client().get("/events", headers={"Accept-Language": "en"}).get_data(
        as_text=True)


def test_an_edit_and_a_cancellation_show_at_once(app):
    slug = create_event(app, "Réunion du jeudi", capacity=5)
    cached(app, f"/events/{slug}")
    cached(app, "/events")
    begins = utcnow().replace(microsecond=0) + timedelta(days=8)
    with transaction(app.extensions["engagement"].sessions) as session:
        event = service.by_slug(session, slug)
        assert event is not None
        service.update(session, event, EventInput("Réunion du vendredi", "", begins, begins + timedelta(hours=2),
                                                  address=PARIS, capacity=9), utcnow(), "fr")
    assert "Réunion du vendredi" in anonymous(app, "/events").get_data(as_text=True)
    assert seats_shown(app, slug) == 9
    cached(app, "/events")
    with transaction(app.extensions["engagement"].sessions) as session:
        event = service.by_slug(session, slug)
        assert event is not None
        service.cancel(session, event, utcnow())
    assert f"/events/{slug}" not in anonymous(app, "/events").get_data(as_text=True)
    assert "annulé" in anonymous(app, f"/events/{slug}").get_data(as_text=True)


def test_a_registration_keeps_the_lists_unless_the_event_fills(app):
    slug = create_event(app, capacity=2)
    cached(app, "/events")
    take_seat(app, slug, "one@example.org")
    assert anonymous(app, "/events").headers.get("X-Page-Cache") == "hit"  # the lists show no count
    take_seat(app, slug, "two@example.org")
    page = anonymous(app, "/events")
    assert "X-Page-Cache" not in page.headers and "Complet" in page.get_data(as_text=True)


def test_tags_come_after_the_commit_only(app):
    generations = app.extensions["engagement"].generations
    slug = create_event(app, capacity=5)
    before = generations.read((event_tag(slug), LISTS))
    factory = app.extensions["engagement"].sessions
    with transaction(factory) as session:
        event = service.by_slug(session, slug)
        assert event is not None
        registration.place(session, event.id, Person("x@example.org", "X", "Y"), waitlist=False, now=utcnow(),
                           locale="fr")
        session.flush()
        assert generations.read((event_tag(slug), LISTS)) == before  # not yet: the commit has not happened
    after = generations.read((event_tag(slug), LISTS))
    assert after is not None and before is not None
    assert after[0] == before[0] + 1 and after[1] == before[1]
    try:
        with transaction(factory) as session:
            event = service.by_slug(session, slug)
            assert event is not None
            event.name = "Jamais enregistré"
            session.flush()
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert generations.read((event_tag(slug), LISTS)) == after  # a rolled-back change bumps nothing


def test_an_approved_committee_is_listed_at_once(app):
    from engagement.committees import service as committees

    for path in ("/", "/committees"):
        cached(app, path)
    with transaction(app.extensions["engagement"].sessions) as session:
        proposed = committees.propose(session, name="Comité des Lilas", description="", address=PARIS,
                                      creator_id=someone(session), now=utcnow())
        session.flush()
        committees.decide(session, proposed, True, utcnow())
        slug = proposed.slug
    for path in ("/", "/committees"):
        assert f"/committees/{slug}" in anonymous(app, path).get_data(as_text=True), path


def test_a_workflow_taken_off_the_home_page_leaves_it_at_once(app):
    from engagement import homepage

    with transaction(app.extensions["engagement"].sessions) as session:
        homepage.place(session, "volunteer", on=True, by="test", now=utcnow())
    assert 'data-workflow="volunteer"' in cached(app, "/")
    with transaction(app.extensions["engagement"].sessions) as session:
        homepage.place(session, "volunteer", on=False, by="test", now=utcnow())
    assert 'data-workflow="volunteer"' not in anonymous(app, "/").get_data(as_text=True)


def test_an_edited_content_page_shows_at_once(app):
    from engagement.pages import service as pages

    cached(app, "/mentions-legales")
    with transaction(app.extensions["engagement"].sessions) as session:
        pages.edit(session, "mentions-legales", title="Mentions légales", body="Éditeur : Association Demain.",
                   now=utcnow(), actor_id=someone(session))
    assert "Association Demain" in anonymous(app, "/mentions-legales").get_data(as_text=True)


def someone(session: Any) -> int:
    from engagement.accounts.models import User

    user = User(email=f"host{utcnow().timestamp()}@example.org", activated_at=utcnow())
    session.add(user)
    session.flush()
    return user.id
