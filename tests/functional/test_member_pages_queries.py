"""A signed-in member's pages send as many queries for a member with two places, committees and invitations as for
one with six (no query per item of a list: the waitlist positions are counted in one), and the home page's lists
kept for every visitor (web/fragments.py) follow a change at once. Queries counted by an engine listener; nothing
is timed (bench/member_pages.py measures)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select

from engagement.accounts.models import User
from engagement.committees import service as committees
from engagement.db import transaction, utcnow
from engagement.events import mine, registration
from engagement.events.models import Event, EventRegistration
from engagement.events.registration import Person
from engagement.invitations.models import Invitation
from engagement.outbox import InProcessRelay
from tests.functional.helpers import text
from tests.functional.invitation_steps import make_user
from tests.functional.test_committees import committee
from tests.functional.test_event_registration import create_event
from tests.functional.test_member_places import member

EMAIL = "dominique@example.org"


@contextmanager
def counted(app: Any) -> Iterator[Callable[[], int]]:
    """The statements the app's engine sends inside the block (once the mail the arrangement queued is out)."""
    InProcessRelay.drain()
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = app.extensions["engagement"].engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield lambda: len(seen)
    finally:
        event.remove(engine, "before_cursor_execute", count)


def queries(app: Any, client: Any, url: str) -> int:
    """The statements one GET of ``url`` sends: the fewer of two, after one not counted (anything a first request
    does once, a kept part built, is not counted; nor a session written again now and then)."""
    client.get(url)
    counts = []
    for _ in range(2):
        with counted(app) as sent:
            assert client.get(url).status_code == 200
        counts.append(sent())
    return min(counts)


def add_lists(app: Any, user_id: int, host_id: int, first: int, count: int) -> None:
    """``count`` more places (every other one on a waitlist, behind someone), committees followed, invitations."""
    for number in range(first, first + count):
        waitlisted = number % 2 == 1
        slug = create_event(app, f"Réunion numéro {number}", capacity=1, taken=1 if waitlisted else 0)
        name = f"Comité numéro {number}"
        committee_slug = committee(app, name, host_id)
        with transaction(app.extensions["engagement"].sessions) as session:
            row = session.scalar(select(Event).where(Event.slug == slug))
            assert row is not None
            if waitlisted:
                registration.place(session, row.id, Person(f"before{number}@example.org", "Avant", "Moi"),
                                   waitlist=True, now=utcnow(), locale="fr")
            registration.place(session, row.id, Person(EMAIL, "Dominique", "Durand", "75004", user_id),
                               waitlist=True, now=utcnow(), locale="fr")
            followed = committees.by_slug(session, committee_slug)
            assert followed is not None
            committees.follow(session, followed, user_id, utcnow())
            session.add(Invitation(inviter_id=user_id, sender_first_name="Dominique", sender_last_name="Durand",
                                   sender_email=EMAIL, friend_first_name=f"Ami{number}",
                                   friend_email=f"ami{number}@example.org", answers={}, subject="Viens",
                                   body="…", locale="fr", joined_at=utcnow() if number % 3 == 0 else None))


def test_the_account_page_sends_as_many_queries_for_six_places_committees_and_invitations_as_for_two(app, client):
    user_id = member(app, client, EMAIL)
    host_id = make_user(app, "hote@example.org")
    add_lists(app, user_id, host_id, 0, 2)
    few = queries(app, client, "/account")
    add_lists(app, user_id, host_id, 2, 4)
    many = queries(app, client, "/account")
    page = text(client.last_html)
    assert many == few
    assert page.count("Réunion numéro") == 6 and page.count("Comité numéro") == 6 and page.count("Ami") >= 6
    assert page.count("position 2") == 3  # each behind the one who waited first: counted, not one query each


def test_the_waitlist_positions_of_many_places_are_counted_in_one_query(app, client):
    user_id = member(app, client, EMAIL)
    host_id = make_user(app, "hote@example.org")
    add_lists(app, user_id, host_id, 0, 6)
    factory = app.extensions["engagement"].sessions
    with factory() as session:
        with counted(app) as sent:
            places = mine.upcoming(session, user_id, EMAIL, utcnow())
        assert sent() <= 2  # the places with their positions (and SQLite's BEGIN)
        assert [p.position for p in places if p.status == "waitlisted"] == [2, 2, 2]
        for place in places:
            row = session.scalar(select(EventRegistration).join(Event, Event.id == EventRegistration.event_id)
                                 .where(EventRegistration.user_id == user_id, Event.slug == place.slug))
            assert row is not None and mine.position(session, row) == place.position


def test_the_home_page_sends_as_many_queries_whatever_the_events_near_the_member(app, client):
    _set_address(app, member(app, client, EMAIL))
    create_event(app, "Réunion près de chez vous 1")
    few = queries(app, client, "/")
    for number in range(2, 7):
        create_event(app, f"Réunion près de chez vous {number}")
    many = queries(app, client, "/")
    assert many == few
    assert text(client.last_html).count("Réunion près de chez vous") >= 4


def test_a_new_event_shows_on_a_member_s_home_page_at_once(app, client):
    _set_address(app, member(app, client, EMAIL))
    client.get("/")
    assert "Une toute nouvelle réunion" not in text(client.last_html)
    create_event(app, "Une toute nouvelle réunion", starts_in=timedelta(hours=3))
    client.get("/")
    page = text(client.last_html)
    assert page.count("Une toute nouvelle réunion") == 2  # in the upcoming events and in "near you"


def _set_address(app: Any, user_id: int) -> None:
    with transaction(app.extensions["engagement"].sessions) as session:
        user = session.get(User, user_id)
        assert user is not None
        user.address = {"street": "12 rue de Rivoli", "postal_code": "75004", "city": "75104",
                        "city_name": "Paris 4e Arrondissement", "country": "FR"}
