"""The last seats of an event under a rush: 20 visitors post their details at the same moment through
the real server (gunicorn, two worker processes) on the suite's database, SQLite or MariaDB.

Not marked ``services``: it needs no service beyond the suite's own database and runs in both
configurations. All requests come from 127.0.0.1: 20 registrations plus 15 waitlist joins are 35
posts from one client, within the workflow's ``rate_limit: "60 per hour"``.
"""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction, utcnow
from engagement.events import registration, service
from engagement.events.models import Event, EventRegistration
from engagement.events.registration import Person
from engagement.events.service import EventInput
from engagement.mail.models import MailMessage
from tests.functional.helpers import in_wizard

URL = "/w/event_registration"
VISITORS = 20
SEATS_LEFT = 5
CAPACITY = 12  # 7 taken beforehand
ADDRESS = {"street": "12 rue de la Paix", "postal_code": "75002", "city": "75102",
           "city_name": "Paris 2e Arrondissement", "country": "FR"}


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    # The server relays its mail in process (as the embedded configuration does) even when the
    # shell running the suite has CELERY_BROKER_URL set: no worker consumes this test's messages.
    env["CELERY_BROKER_URL"] = ""
    return env


def _create_event(factory: sessionmaker[Session]) -> tuple[int, str]:
    begins = utcnow().replace(microsecond=0) + timedelta(days=7)
    data = EventInput(name="Réunion très demandée", description="", begins_at=begins,
                      ends_at=begins + timedelta(hours=2), address=ADDRESS, capacity=CAPACITY, category="meeting")
    with transaction(factory) as session:
        event = service.create(session, data, organizer_id=None, now=utcnow())
        for n in range(CAPACITY - SEATS_LEFT):
            assert registration.place(session, event.id, Person(f"early{n}@example.org", "Tôt", f"N{n}"),
                                      waitlist=False, now=utcnow(), locale="fr") == "registered"
        return event.id, event.slug


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    assert found, page[:2000]
    return found.group(1)


def _state(page: str) -> str | None:
    """The step form's ``data-state``, or the closing page heading's."""
    found = re.search(r'data-state="([^"]+)"', page)
    return found.group(1) if found else None


class Visitor:
    """One browser: its own cookies, its own instance of the workflow; every response is kept."""

    def __init__(self, base: str, n: int) -> None:
        self.base, self.n = base, n
        self.browser = requests.Session()
        self.responses: list[requests.Response] = []
        self.states: list[str | None] = []
        self.error: BaseException | None = None

    def get(self, path: str) -> str:
        response = self.browser.get(f"{self.base}{path}", timeout=60)
        self.responses += [*response.history, response]
        assert response.status_code == 200, (response.status_code, response.text[:1500])
        return response.text

    def post(self, page: str, data: dict[str, str]) -> str:
        payload = {"csrf_token": _hidden(page, "csrf_token"), "step": _hidden(page, "step"), **data}
        response = self.browser.post(f"{self.base}{URL}", data=payload, allow_redirects=False, timeout=60)
        self.responses.append(response)
        assert response.status_code == 303, (response.status_code, response.text[:1500])
        assert in_wizard(response.headers["Location"], URL), response.headers["Location"]  # never "?stale=1"
        page = self.get(URL)
        self.states.append(_state(page))
        return page

    def run(self, slug: str, barrier: threading.Barrier) -> None:
        try:
            page = self.get(f"/events/{slug}/register")
            assert _state(page) == "details", page[:1500]
            details = {"first_name": "Visiteur", "last_name": f"N{self.n}", "email": f"rush{self.n}@example.org",
                       "postal_code": "75011", "terms": "y", "trigger": "register"}
            barrier.wait(timeout=60)
            page = self.post(page, details)
            if _state(page) == "full":
                self.post(page, {"trigger": "join_waitlist"})
        except BaseException as error:  # reported by the test, in the main thread
            self.error = error
            barrier.abort()


def test_twenty_visitors_for_the_last_five_seats(live_server: str, factory: sessionmaker[Session]) -> None:
    event_id, slug = _create_event(factory)
    barrier = threading.Barrier(VISITORS)
    visitors = [Visitor(live_server, n) for n in range(VISITORS)]
    threads = [threading.Thread(target=v.run, args=(slug, barrier)) for v in visitors]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in threads), "a visitor is still waiting"
    errors = [(v.n, repr(v.error)) for v in visitors if v.error is not None]
    assert errors == [], errors

    codes = [r.status_code for v in visitors for r in v.responses]
    assert all(code < 500 for code in codes), codes
    outcomes = sorted(v.states[-1] for v in visitors)
    assert outcomes == ["registered"] * SEATS_LEFT + ["waitlisted"] * (VISITORS - SEATS_LEFT), outcomes
    # Those who saw "full" went on to the waitlist; the others took a seat at once.
    assert sorted(tuple(v.states) for v in visitors) == sorted(
        [("full", "waitlisted")] * (VISITORS - SEATS_LEFT) + [("registered",)] * SEATS_LEFT)

    rush = [f"rush{n}@example.org" for n in range(VISITORS)]
    with factory() as session:
        event = session.get(Event, event_id)
        assert event.seats_taken == event.capacity == CAPACITY
        rows = list(session.scalars(select(EventRegistration).where(EventRegistration.event_id == event_id,
                                                                    EventRegistration.email.in_(rush))))
        assert len(rows) == VISITORS and len({r.email for r in rows}) == VISITORS
        assert sorted(r.status for r in rows) == ["registered"] * SEATS_LEFT + ["waitlisted"] * (VISITORS - SEATS_LEFT)
        registered = session.scalar(select(func.count()).select_from(EventRegistration).where(
            EventRegistration.event_id == event_id, EventRegistration.status == "registered"))
        assert registered == CAPACITY
        assert all(r.waitlisted_at is not None for r in rows if r.status == "waitlisted")
        mails = [m for m in session.scalars(select(MailMessage).order_by(MailMessage.id)) if m.to[0] in rush]
    assert len(mails) == VISITORS
    assert sorted(m.template for m in mails) == (
        ["event_registered"] * SEATS_LEFT + ["event_waitlisted"] * (VISITORS - SEATS_LEFT))
    by_person = {m.to[0]: m.template for m in mails}
    assert {r.email: r.status for r in rows} == {
        email: template.removeprefix("event_") for email, template in by_person.items()}
    assert {m.status for m in mails} == {"sent"}
    print(f"\n{VISITORS} visitors, {SEATS_LEFT} seats: {elapsed:.2f} s")  # shown with -s


@pytest.mark.services
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="set REDIS_URL=redis://... to run the Redis tests")
def test_the_registration_rate_limit_counts_under_the_deployments_redis_prefix(
        live_server: str, env: dict[str, str], factory: sessionmaker[Session]) -> None:
    """REDIS_PREFIX sets apart deployments (and test runs) sharing one Redis: the register and
    join_waitlist counters must be kept under it, or one deployment's visitors spend another's limit
    (and a suite run twice within the hour finds the first run's 35 posts from 127.0.0.1 counted)."""
    import redis

    _event_id, slug = _create_event(factory)
    browser = requests.Session()
    page = browser.get(f"{live_server}/events/{slug}/register", timeout=30).text
    posted = browser.post(f"{live_server}{URL}", allow_redirects=False, timeout=30, data={
        "csrf_token": _hidden(page, "csrf_token"), "step": _hidden(page, "step"), "first_name": "Lou",
        "last_name": "Martin", "email": "lou@example.org", "terms": "y", "trigger": "register"})
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        keys = [k.decode() for k in client.scan_iter(match="*event_registration:register*", count=1000)]
    finally:
        client.close()
    mine = [k for k in keys if env["REDIS_PREFIX"] in k]
    unprefixed = [k for k in keys if not re.search(r"test-[0-9a-f]{12}:", k)]
    assert mine, (f"no register counter under {env['REDIS_PREFIX']!r}; {len(unprefixed)} without any prefix, "
                  f"such as {unprefixed[:3]} (the post answered {posted.status_code})")
    assert posted.status_code == 303
