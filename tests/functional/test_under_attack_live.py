"""The switch test on the real server (gunicorn, 2 workers): turned on by the CLI, it holds under a mixed
load with not one database write; turned off, full service is back within 10 seconds."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engagement import PROJECT_ROOT
from engagement.accounts.service import create_user
from engagement.db import transaction, utcnow
from engagement.events import service as events
from engagement.events.service import EventInput
from tests.functional.invitation_steps import PASSWORD
from tests.functional.test_event_registration import PARIS
from web.underattack import POLL_SECONDS

MYSQL_WRITES = ("Com_insert", "Com_insert_select", "Com_update", "Com_update_multi", "Com_delete",
                "Com_delete_multi", "Com_replace", "Com_replace_select")
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]*)"')


class Writes:
    """Commits by any other process: SQLite's data_version, or MariaDB's statement counters (the whole
    server's: nothing else runs meanwhile)."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.sqlite = parsed.get_backend_name() == "sqlite"
        if self.sqlite:
            self.connection = sqlite3.connect(str(parsed.database))
        else:
            self.engine = create_engine(url)

    def count(self) -> int:
        if self.sqlite:
            return int(self.connection.execute("PRAGMA data_version").fetchone()[0])
        with self.engine.connect() as connection:
            rows = connection.execute(text("SHOW GLOBAL STATUS WHERE Variable_name IN :names"),
                                      {"names": MYSQL_WRITES}).all()
        return sum(int(value) for _name, value in rows)


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "web.cli", "under-attack", *args], env={**os.environ, **env},
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def token(session: requests.Session, url: str) -> str:
    found = TOKEN.search(session.get(url, timeout=10).text)
    assert found, f"no CSRF token on {url}"
    return found.group(1)


def signed_in(base: str) -> requests.Session:
    member = requests.Session()
    answer = member.post(f"{base}/login", data={"csrf_token": token(member, f"{base}/login"),
                                                "email": "member@example.org", "password": PASSWORD},
                         allow_redirects=False, timeout=10)
    assert answer.status_code == 303 and "engagement_session" in member.cookies
    return member


def until(check: Any, seconds: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {seconds} s")


def mixed_load(base: str, member: requests.Session, slug: str, rounds: int) -> Counter[tuple[str, int]]:
    """Anonymous and signed-in visitors on every kind of page and form, 8 at a time."""
    def one(i: int) -> list[tuple[str, int]]:
        visitor = member if i % 2 else requests.Session()
        visitor.cookies.set("lang", "en")
        pages = ["/", "/events", "/committees", f"/events/{slug}", f"/events/no-such-{i}", "/search",
                 f"/search?q=paris{i}", f"/events?page=1&utm={i}", "/login", "/signup", "/w/volunteer", "/account",
                 "/static/css/site.css", "/api/cities?postal_code=94320", "/admin/users"]
        seen = [(page.split("?")[0], visitor.get(base + page, allow_redirects=False, timeout=10).status_code)
                for page in pages]
        form = {"csrf_token": "x", "email": "member@example.org", "password": PASSWORD, "lang": "fr"}
        for path in ("/login", "/w/volunteer", "/lang", "/logout", "/password/reset", f"/events/{slug}/register"):
            seen.append((f"POST {path}", visitor.post(base + path, data=form, allow_redirects=False,
                                                      timeout=10).status_code))
        return seen

    with ThreadPoolExecutor(8) as pool:
        return Counter(answer for answers in pool.map(one, range(rounds)) for answer in answers)


def test_on_nothing_is_written_under_load_off_everything_is_back_within_10_s(live_server, env, factory):
    base = live_server
    with transaction(factory) as session:
        create_user(session, "member@example.org", password=PASSWORD)
        begins = utcnow() + timedelta(days=7)
        slug = events.create(session, EventInput("Réunion à Paris", "", begins, begins + timedelta(hours=2),
                                                 address=PARIS), organizer_id=None, now=utcnow()).slug
    member = signed_in(base)
    # The event's page in the cache before the attack (twenty fetches: each worker has its own copy when
    # the cache is the process's memory). The flood of unknown events below spends that view's budget.
    for _ in range(20):
        assert requests.get(f"{base}/events/{slug}", timeout=10).status_code == 200

    started = time.monotonic()
    print("\n" + cli(env, "on").strip())
    until(lambda: all(requests.get(f"{base}/login", timeout=10).status_code == 503 for _ in range(10)), 10,
          "every worker closing forms")
    took_on = time.monotonic() - started  # the command (which starts the app to warm the cache) and the polls
    writes = Writes(env["DATABASE_URL"])
    before = writes.count()
    started = time.monotonic()
    answers = mixed_load(base, member, slug, rounds=100)
    took_load = time.monotonic() - started
    assert writes.count() == before, "a database write under attack"
    print(f"on everywhere in {took_on:.1f} s; {sum(answers.values())} requests in {took_load:.1f} s, 0 writes")
    assert {status for (_page, status) in answers} <= {200, 404, 503}, answers
    for page in ("/", "/committees", f"/events/{slug}", "/search"):
        assert answers[(page, 200)] == 100, (page, answers)  # signed in or not, from the cache
    assert answers[("/events", 200)] == 200  # with ?utm= too
    for page in ("/login", "/signup", "/w/volunteer", "/account", "/api/cities", "/admin/users",
                 "POST /login", "POST /w/volunteer", "POST /lang", "POST /logout", f"POST /events/{slug}/register"):
        assert answers[(page, 503)] == 100, (page, answers)

    started = time.monotonic()
    cli(env, "off")
    until(lambda: all(requests.get(f"{base}/login", timeout=10).status_code == 200 for _ in range(10)), 10,
          "every worker open again")
    took_off = time.monotonic() - started
    print(f"off everywhere {took_off:.1f} s after the command started (workers read the switch every "
          f"{POLL_SECONDS:.0f} s)")
    assert took_off < 10
    assert 'action="/logout"' in member.get(f"{base}/account", timeout=10).text  # the session outlived it all
    visitor = requests.Session()
    step = visitor.post(f"{base}/w/volunteer", data={"csrf_token": token(visitor, f"{base}/w/volunteer"),
                                                     "trigger": "next"}, allow_redirects=False, timeout=10)
    assert step.status_code in (303, 422)  # the wizard takes a step again (422: the form asks its fields)
    assert writes.count() > before  # and writes again
