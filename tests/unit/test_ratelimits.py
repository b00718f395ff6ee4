"""The database's rate limit counters (engagement/ratelimits.py) and the limiter's storage on them
(web/limits.py): no increment lost between processes, windows that end, counters cleared and purged.
On SQLite (a file of their own next to the database), or on MariaDB when DATABASE_URL names it."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator
from typing import Any

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Engine, func, select

from engagement.config import Settings
from engagement.db import make_engine
from engagement.ratelimits import PURGE_SECONDS, Counters, RateLimitCounter, counters_engine
from web.limits import DatabaseStorage, storage_settings

HITS = 300  # by each of two processes


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    """Without Redis, whatever the shell says: the database's counters are under test."""
    return {name: value for name, value in env.items() if not name.startswith("REDIS_")}


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    app_engine = make_engine(settings.database_url)
    counted_on = counters_engine(app_engine)
    assert counted_on is not None
    yield counted_on
    counted_on.dispose()
    app_engine.dispose()


def _hit_many(url: str, start: Any, results: Any) -> None:
    """One process: HITS hits on one key, sending back the count each hit answered."""
    counters = Counters(make_engine(url))
    start.wait()
    results.put([counters.hit("shared", 3600) for _ in range(HITS)])


def test_two_processes_lose_no_increment(engine: Engine) -> None:
    context = multiprocessing.get_context("spawn")  # nothing of this process (connections, locks) in theirs
    start, results = context.Barrier(2), context.Queue()
    url = engine.url.render_as_string(hide_password=False)
    workers = [context.Process(target=_hit_many, args=(url, start, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    answered = [*results.get(timeout=120), *results.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(answered) == list(range(1, 2 * HITS + 1))  # each count answered once: no two hits saw the same
    assert Counters(engine).count("shared") == 2 * HITS


def test_a_window_ends_and_the_next_hit_starts_a_new_one(engine: Engine) -> None:
    clock = Clock()
    counters = Counters(engine, clock)
    assert [counters.hit("client", 60) for _ in range(3)] == [1, 2, 3]
    assert counters.expiry("client") == clock.now + 60
    clock.now += 59
    assert counters.hit("client", 60) == 4 and counters.expiry("client") == clock.now + 1  # the same window
    clock.now += 1
    assert counters.count("client") == 0 and counters.expiry("client") == clock.now  # ended
    assert counters.hit("client", 60, amount=2) == 2 and counters.expiry("client") == clock.now + 60


def test_clear_forgets_one_key_and_clear_all_every_key(engine: Engine) -> None:
    counters = Counters(engine)
    for key in ("a", "b", "c"):
        counters.hit(key, 60)
    counters.clear("a")
    assert (counters.count("a"), counters.count("b")) == (0, 1)
    assert counters.clear_all() == 2
    assert counters.count("b") == counters.count("c") == 0


def test_ended_windows_are_purged_and_no_key_is_stored_in_clear(engine: Engine) -> None:
    clock = Clock()
    counters = Counters(engine, clock)
    counters.hit("ip 192.0.2.7", 10)
    counters.hit("user lou@example.org", 600)
    with engine.connect() as connection:
        stored = set(connection.scalars(select(RateLimitCounter.key_hash)))
    assert len(stored) == 2 and not any("192.0.2.7" in key or "lou" in key for key in stored)
    clock.now += PURGE_SECONDS  # the next hit purges: the first window ended, not the second
    counters.hit("someone else", 60)  # a minute since the last purge: ended windows go
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(RateLimitCounter)) == 2
    assert counters.count("user lou@example.org") == 1


def test_the_limiter_counts_on_the_database(engine: Engine) -> None:
    limiter = FixedWindowRateLimiter(DatabaseStorage(engine=engine))
    five = parse("5 per 10 minutes")
    assert [limiter.hit(five, "login", "lou") for _ in range(6)] == [True] * 5 + [False]
    assert not limiter.test(five, "login", "lou") and limiter.test(five, "login", "sam")
    assert limiter.get_window_stats(five, "login", "lou").remaining == 0
    limiter.clear(five, "login", "lou")
    assert limiter.test(five, "login", "lou")


def test_the_storage_is_redis_else_the_database_else_memory(tmp_path: Any) -> None:
    sqlite = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    assert storage_settings("redis://cache:6379/0", {"key_prefix": "x"}, sqlite) == {
        "RATELIMIT_STORAGE_URI": "redis://cache:6379/0", "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": "x"}}
    chosen = storage_settings(None, {}, sqlite)
    assert chosen["RATELIMIT_STORAGE_URI"] == "engagement-db://"
    assert chosen["RATELIMIT_STORAGE_OPTIONS"]["engine"].url.database == f"{tmp_path / 'app.db'}.rate-limits"
    assert (tmp_path / "app.db.rate-limits").exists()  # not the application's file: see engagement/ratelimits.py
    mariadb = make_engine("mysql+pymysql://user@db.example/engagement")
    assert storage_settings(None, {}, mariadb)["RATELIMIT_STORAGE_OPTIONS"] == {"engine": mariadb}
    assert storage_settings(None, {}, make_engine("sqlite://"))["RATELIMIT_STORAGE_URI"] == "memory://"


def test_a_counter_store_that_fails_counts_in_memory_and_no_page_fails(app: Any, monkeypatch: Any,
                                                                        caplog: Any) -> None:
    from sqlalchemy.exc import OperationalError

    from engagement.accounts.service import create_user
    from engagement.db import transaction
    from tests.conftest import FormClient
    from web.extensions import limiter

    def unreachable(*_args: Any) -> Any:
        raise OperationalError("UPSERT", {}, Exception("disk I/O error"))

    with transaction(app.extensions["engagement"].sessions) as session:
        create_user(session, "lou@example.org", password="une phrase de passe solide")
    counters = limiter.storage.counters  # type: ignore[attr-defined]
    # Whichever counts first says so: our spend() on "web.limits", or Flask-Limiter's own decorator on
    # "flask-limiter"; an earlier test's logging set-up may have silenced either, or left the storage dead.
    monkeypatch.setattr(limiter, "_storage_dead", False)
    loggers = [logging.getLogger("web.limits"), logging.getLogger("flask-limiter")]
    for warned in loggers:
        monkeypatch.setattr(warned, "disabled", False)
        caplog.set_level(logging.WARNING, logger=warned.name)
        warned.addHandler(caplog.handler)  # captured even if a parent logger no longer propagates
    for name in ("hit", "count", "expiry"):
        monkeypatch.setattr(counters, name, unreachable)
    client = FormClient(app.test_client())
    try:
        statuses = []
        for _ in range(6):
            client.get("/login")
            statuses.append(client.post("/login", {"email": "lou@example.org", "password": "wrong"}).status_code)
        assert statuses == [422] * 6 and "Trop de tentatives échouées" in client.last_html  # the 6th: locked
        assert "Rate limit storage unreachable" in caplog.text
    finally:
        for warned in loggers:
            warned.removeHandler(caplog.handler)
        limiter._storage_dead = False  # one limiter serves every app of the test process


def test_the_last_allowance_goes_to_one_request_only(app: Any, monkeypatch: Any) -> None:
    from limits.strategies import FixedWindowRateLimiter as Strategy

    from web.limits import spend

    with app.test_request_context("/w/invitation", environ_base={"REMOTE_ADDR": "192.0.2.7"}):
        assert [spend("10 per hour", "invitation:send") for _ in range(10)] == [None] * 10
        # Another worker's request read 9 and is about to take the 10th: this one read 9 too.
        monkeypatch.setattr(Strategy, "test", lambda *_args, **_kwargs: True)
        wait = spend("10 per hour", "invitation:send")
    assert wait is not None and 0 < wait <= 3600
