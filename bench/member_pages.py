"""Pages for a signed-in member (issue #24, item 5): the home page, an event's page and the account page under
2 ms of CPU each, and no query per item of a list.

A throwaway deployment (SQLite, the demo data) and two members living in Paris, each with places at events
(a quarter of them on a waitlist, behind someone else), committees followed and invitations sent: one with
10 of each, one with 50. Each member logs in through the real form; then, in this process, the Flask test
client (the whole WSGI chain: page cache, session, Flask, views, templates) GETs each page: a warm-up, then
5 runs (3 with ``--quick``) of 500 GETs (100), timed with ``time.process_time``: the CPU per GET is the median
of the runs, each run taking every page in turn (the machine's noise falls on all alike). ``floor`` is
``/healthz`` for the same member: the WSGI chain, without a view's work. The SQL statements a GET sends are
counted by a ``before_cursor_execute`` listener; a page whose count differs between the 10 and the 50
member sends a query per item of a list (``grows``).

    python bench/member_pages.py [--quick] [--page home|event|account] [--json out.json]
    python bench/member_pages.py --profile home|event|account [--size 10|50]   (cProfile, by own time)
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from harness import create_tables, deployment_env, emit, machine

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-member-pages-2026"
PARIS = {"street": "12 rue de Rivoli", "postal_code": "75004", "city": "75104",
         "city_name": "Paris 4e Arrondissement", "country": "FR"}
SIZES = (10, 50)
PAGES = ("home", "event", "account")
TARGET_MS = 2.0


def email_of(size: int) -> str:
    return f"member{size}@bench.example.org"


def arrange(app: Any, sizes: tuple[int, ...] = SIZES) -> None:
    """The members (one per size): places at ``size`` events, ``size`` committees followed, ``size`` invitations."""
    from engagement.accounts.service import create_user
    from engagement.committees.models import Committee, CommitteeMembership
    from engagement.db import transaction, utcnow
    from engagement.events import service
    from engagement.events.models import EventRegistration
    from engagement.invitations.models import Invitation

    core, now = app.extensions["engagement"], utcnow()
    with transaction(core.sessions) as session:
        events, committees = [], []
        for number in range(max(sizes)):
            begins = now + timedelta(days=2 + number % 20, hours=number)
            events.append(service.create(session, service.EventInput(
                f"Réunion de quartier numéro {number + 1}", "Pour s’organiser.", begins, begins + timedelta(hours=2),
                address=PARIS, capacity=10, category="meeting"), None, now))
            committee = Committee(slug=f"comite-banc-{number + 1}", name=f"Comité banc d’essai {number + 1}",
                                  description="", address=PARIS, postal_code="75004", department="75",
                                  status="approved", created_at=now, decided_at=now)
            session.add(committee)
            committees.append(committee)
        session.flush()
        for size in sizes:
            user = create_user(session, email_of(size), password=PASSWORD)
            user.first_name, user.last_name, user.address = "Camille", f"Banc {size}", PARIS
            session.flush()
            for number, event in enumerate(events[:size]):
                waitlisted = number % 4 == 3
                if waitlisted:  # someone else first on the waitlist: the member's position is 2
                    event.seats_taken = event.capacity or 0
                    session.add(EventRegistration(event_id=event.id, email=f"other{number}.{size}@bench.example.org",
                                                  first_name="Autre", last_name="Personne", status="waitlisted",
                                                  waitlisted_at=now - timedelta(hours=1)))
                session.add(EventRegistration(event_id=event.id, user_id=user.id, email=user.email,
                                              first_name="Camille", last_name=f"Banc {size}",
                                              status="waitlisted" if waitlisted else "registered",
                                              waitlisted_at=now if waitlisted else None))
            for committee in committees[:size]:
                session.add(CommitteeMembership(committee_id=committee.id, user_id=user.id, role="follower",
                                                created_at=now))
            for number in range(size):
                session.add(Invitation(inviter_id=user.id, sender_first_name="Camille", sender_last_name="Banc",
                                       sender_email=user.email, friend_first_name=f"Ami {number}",
                                       friend_email=f"ami{number}.{size}@bench.example.org", answers={},
                                       subject="Rejoins-nous", body="…", locale="fr",
                                       created_at=now - timedelta(days=number),
                                       joined_at=now if number % 3 == 0 else None))


def logged_in(app: Any, size: int) -> Any:
    """A test client logged in as the member of ``size`` through the log-in form (CSRF on)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', page)
    assert token is not None
    response = client.post("/login", data={"csrf_token": token.group(1), "email": email_of(size),
                                           "password": PASSWORD})
    assert response.status_code == 303, response.status_code
    return client


def paths(app: Any) -> dict[str, str]:
    """The URL of each page: the demo's first Paris event (the member holds no place there)."""
    from sqlalchemy import select

    from engagement.events.models import Event

    with app.extensions["engagement"].sessions() as session:
        slug = session.scalar(select(Event.slug).where(Event.name.like("Réunion publique%")))
    return {"home": "/", "event": f"/events/{slug}", "account": "/account"}


class Queries:
    """Counts the statements sent to the database while on."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.count, self.on, self.statements = 0, False, []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.on:
            self.count += 1
            self.statements.append(statement)

    def during(self, action: Callable[[], Any]) -> list[str]:
        self.count, self.on, self.statements = 0, True, []
        try:
            action()
        finally:
            self.on = False
        return self.statements


def get(client: Any, path: str) -> None:
    response = client.get(path)
    response.get_data()
    assert response.status_code == 200, (path, response.status_code)
    assert "X-Page-Cache" not in response.headers  # a member's page is rendered, never the cached copy


def cpu_ms(client: Any, path: str, requests: int) -> float:
    start = time.process_time()
    for _ in range(requests):
        get(client, path)
    return (time.process_time() - start) * 1000 / requests


def measure(app: Any, requests: int, runs: int, warmup: int, pages: tuple[str, ...] = PAGES) -> dict[str, Any]:
    """Each run times every page for each member in turn (the machine's noise falls on all alike); the median
    of the runs. The floor: ``/healthz`` for the same member (the WSGI chain, the session, no view work)."""
    queries = Queries(app.extensions["engagement"].engine)
    urls = {**paths(app), "floor": "/healthz"}
    clients = {size: logged_in(app, size) for size in SIZES}
    cases = [(page, size) for page in (*pages, "floor") for size in SIZES]
    counts: dict[tuple[str, int], list[int]] = {}
    for page, size in cases:
        for _ in range(warmup):
            get(clients[size], urls[page])
        client, url = clients[size], urls[page]
        counts[page, size] = [len(queries.during(lambda: get(client, url))) for _ in range(5)]  # noqa: B023
    timed: dict[tuple[str, int], list[float]] = {case: [] for case in cases}
    for index in range(runs):
        for page, size in cases:
            timed[page, size].append(cpu_ms(clients[size], urls[page], requests))
        print(f"run {index + 1}/{runs}: " + ", ".join(f"{page} ({size}) {timed[page, size][-1]:.2f} ms"
                                                     for page, size in cases), file=sys.stderr)
    result: dict[str, Any] = {}
    for page in (*pages, "floor"):
        row: dict[str, Any] = {str(size): {"cpu_ms": round(statistics.median(timed[page, size]), 3),
                                           "runs_cpu_ms": [round(v, 3) for v in timed[page, size]],
                                           "queries": statistics.median(counts[page, size])} for size in SIZES}
        grows = len({row[str(size)]["queries"] for size in SIZES}) > 1
        row.update(grows=grows, target_ms=TARGET_MS,
                   met=not grows and all(row[str(size)]["cpu_ms"] < TARGET_MS for size in SIZES))
        result[page] = row
    return result


def profile(app: Any, page: str, size: int, requests: int) -> None:
    client = logged_in(app, size)
    path = paths(app)[page]
    for _ in range(50):
        get(client, path)
    statements = Queries(app.extensions["engagement"].engine).during(lambda: get(client, path))
    print(f"{len(statements)} queries:", *(" ".join(s.split())[:160] for s in statements), sep="\n  ")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        get(client, path)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(45)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)


def deployment(root: Path) -> Any:
    from engagement import demo
    from engagement.config import load_settings
    from web.app import create_app

    env = deployment_env(root, ROOT / "workflows")
    create_tables(env["DATABASE_URL"])
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    settings = load_settings()
    app = create_app(settings)
    demo.load(app.extensions["engagement"].sessions, settings.workflows_dir)
    arrange(app)
    from engagement.outbox import InProcessRelay

    InProcessRelay.drain()  # the demo's and the members' own work (indexing, lists) done before measuring
    return app


def main(argv: list[str]) -> dict[str, Any]:
    quick = "--quick" in argv
    requests, runs, warmup = (100, 3, 20) if quick else (500, 5, 100)
    with tempfile.TemporaryDirectory(prefix="bench-member-pages-") as tmp:
        app = deployment(Path(tmp))
        if "--profile" in argv:
            size = int(argv[argv.index("--size") + 1]) if "--size" in argv else SIZES[-1]
            profile(app, argv[argv.index("--profile") + 1], size, requests)
            return {}
        pages = (argv[argv.index("--page") + 1],) if "--page" in argv else PAGES
        result = measure(app, requests, runs, warmup, pages)
        app.extensions["engagement"].engine.dispose()
    result.update(requests=requests, runs=runs, mode="SQLite, Flask test client in process", machine=machine())
    return result


if __name__ == "__main__":
    outcome = main(sys.argv[1:])
    emit(outcome, sys.argv[1:])
    if outcome and "--json" not in sys.argv:
        print(json.dumps({page: {key: outcome[page][key] if key in ("grows", "met") else
                                 {"cpu_ms": outcome[page][key]["cpu_ms"], "queries": outcome[page][key]["queries"]}
                                 for key in ("10", "50", "grows", "met")} for page in (*PAGES, "floor")
                          if page in outcome}))
