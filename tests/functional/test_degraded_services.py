"""Redis down (a closed port, a silent one, or a fake that fails on demand): pages render, forms that
need the session answer a friendly 503 and write nothing, rate limits count in memory, /readyz names
Redis, and the stored session is found again once Redis answers. The broker down (a fake behind
``send_task``): rows are stranded, then relayed once it answers. No service is needed."""

from __future__ import annotations

import logging
import secrets
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from sqlalchemy import select, update

from engagement.config import load_settings
from engagement.outbox import OutboxMessage
from engagement.workflow.models import WorkflowInstance
from tests.functional.helpers import IDENTITY, URL, advance, count, instances, state_of, text
from web.extensions import limiter
from web.limits import spend

DEAD = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every connection is refused
UNAVAILABLE = "We could not take your request into account just now, and nothing was changed."


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "REDIS_URL": DEAD, "REDIS_PREFIX": "degraded:"}


@pytest.fixture(autouse=True)
def _limiter_storage_back() -> Iterator[None]:
    yield
    limiter._storage_dead = False  # one limiter serves every app of the test process


@pytest.fixture
def english(client: Any) -> Any:
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the source strings, whatever the catalogs say
    return client


def _is_unavailable(response: Any) -> bool:
    page = text(response.get_data(as_text=True))
    return response.status_code == 503 and response.headers["Retry-After"].isdigit() and UNAVAILABLE in page


def test_pages_render_without_redis(english: Any) -> None:
    for url in ("/", "/events", "/committees", "/login", "/password/reset", "/healthz"):
        response = english.get(url)
        assert response.status_code == 200, url
        assert "engagement_session" not in response.headers.get("Set-Cookie", "")


def test_a_form_answers_a_friendly_503_and_writes_nothing(english: Any, read: Any) -> None:
    english.get("/login")  # the page renders, with a CSRF token no session could keep
    login = english.post("/login", {"email": "camille@example.org", "password": "long enough secret"})
    assert _is_unavailable(login)
    wizard = english.post(URL, {**IDENTITY, "trigger": "next"}, page="/login")
    assert _is_unavailable(wizard)
    assert count(read(), WorkflowInstance) == 0
    chosen = english.post("/lang", {"lang": "fr"}, page="/")  # a cookie of its own: no session needed
    assert chosen.status_code == 303 and chosen.headers["Set-Cookie"].startswith("lang=fr;")


def test_the_wizard_waits_for_its_session_instead_of_starting_instances(english: Any, read: Any) -> None:
    assert _is_unavailable(english.get(URL))
    assert _is_unavailable(english.get(URL))
    assert count(read(), WorkflowInstance) == 0


def test_readyz_names_redis(client: Any) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "down", "down": ["redis"], "checks": {"database": "ok", "redis": "down"}}


def test_rate_limits_keep_counting_in_memory(app: Any, client: Any, caplog: Any) -> None:
    caplog.set_level(logging.WARNING)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.9.8.7"}):
        assert spend("2 per minute", "degraded") is None
        assert spend("2 per minute", "degraded") is None
        assert (spend("2 per minute", "degraded") or 0) > 0  # seconds to wait: the limit still applies
    assert "counting in memory" in caplog.text
    # A decorated limit (20 a minute on activation links) applies too, from the process's memory.
    answers = [client.get("/account/activate/no-such-token").status_code for _ in range(21)]
    assert answers == [503] * 20 + [429]


class FlakyRedis:
    """A Redis client keeping its keys in a dict; ``down`` makes every call fail as a dead server does."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.down = False
        self.calls = 0

    def _answer(self) -> None:
        self.calls += 1
        if self.down:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    def get(self, name: Any) -> Any:
        self._answer()
        return self.data.get(name)

    def set(self, name: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        self._answer()
        self.data[name] = value
        return True

    def ping(self) -> bool:
        self._answer()
        return True

    def delete(self, *names: Any) -> Any:
        self._answer()
        return sum(self.data.pop(name, None) is not None for name in names)

    def exists(self, *names: Any) -> int:
        self._answer()
        return sum(name in self.data for name in names)


@pytest.fixture
def flaky(app: Any) -> FlakyRedis:
    fake = FlakyRedis()
    app.session_interface.client = fake
    return fake


def test_the_session_comes_back_with_redis(app: Any, client: Any, flaky: FlakyRedis, read: Any) -> None:
    client.get(URL)
    advance(client, IDENTITY)
    stored = dict(flaky.data)
    assert state_of(client.last_html) == "availability"

    flaky.down = True
    assert client.get("/").status_code == 200
    assert client.get(URL).status_code == 503
    assert client.post(URL, {"missions": ["events"], "trigger": "next"}).status_code == 503
    assert flaky.data == stored  # the stand-in session never replaced the stored one
    [instance] = instances(read())
    assert instance.state == "availability"

    flaky.down = False
    app.session_interface.breaker.cooldown = 0  # no need to wait out the breaker in a test
    assert client.get(URL).status_code == 200
    assert state_of(client.last_html) == "availability"  # same browser, same session, same instance
    advance(client, {"missions": ["events"]})
    assert instances(read())[0].state != "availability"


def test_the_breaker_keeps_requests_off_a_dead_redis(app: Any, client: Any, flaky: FlakyRedis) -> None:
    client.get(URL)
    flaky.down = True
    client.get("/")
    calls = flaky.calls
    for _ in range(5):
        assert client.get("/").status_code == 200
    assert flaky.calls == calls  # within the cooldown, Redis is not even asked


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A port that accepts connections and never answers: a hung Redis (the slow case of an outage)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"


def test_a_silent_redis_does_not_hang_requests(env: dict[str, str], settings: Any, silent_redis: str) -> None:
    from web.app import create_app

    app = create_app(load_settings({**env, "REDIS_URL": silent_redis}))
    browser = app.test_client()
    # An id of the shape the store issues (one of another shape is made up: served as an anonymous visitor).
    browser.set_cookie("engagement_session", secrets.token_urlsafe(32))
    started = time.monotonic()
    pages = [browser.get(url).status_code for url in ("/", "/events", "/login", "/", "/committees")]
    ready = browser.get("/readyz")
    # "Does not hang", not a benchmark: the timeouts are half a second, the bound is generous.
    assert time.monotonic() - started < 5
    assert pages == [200] * 5
    assert ready.status_code == 503 and ready.get_json()["down"] == ["redis"]
    app.extensions["engagement"].engine.dispose()



class Broker:
    """Stands in for RabbitMQ behind Celery's ``send_task`` and the readiness check: up or down."""

    def __init__(self) -> None:
        self.up, self.published, self.attempts = False, [], 0

    def send_task(self, name: str, args: list[int], queue: str, **options: Any) -> None:
        self.attempts += 1
        if not self.up:
            raise OSError(111, "Connection refused")
        self.published.append(args[0])

    def check(self) -> None:
        if not self.up:
            raise OSError(111, "Connection refused")


@pytest.fixture
def broker(monkeypatch: Any) -> Broker:
    from workers import dispatch

    fake = Broker()
    monkeypatch.setattr(dispatch.app, "send_task", fake.send_task)
    monkeypatch.setattr(dispatch, "check_broker", fake.check)
    monkeypatch.setattr(dispatch, "WATCH_EVERY", 0.05)
    return fake


def _outbox_rows(factory: Any, count: int) -> list[int]:
    with factory() as session:
        rows = [OutboxMessage(topic="mail.deliver", payload={}) for _ in range(count)]
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows]


def _errors(factory: Any) -> list[str | None]:
    with factory() as session:
        return list(session.scalars(select(OutboxMessage.last_error).order_by(OutboxMessage.id)))


def test_rows_the_broker_refuses_are_stranded_then_relayed_once_it_answers(factory: Any, broker: Broker) -> None:
    from workers.dispatch import STRANDED, CeleryRelay

    relay = CeleryRelay(factory)
    first, second, third = _outbox_rows(factory, 3)
    relay([first, second])
    assert broker.attempts == 1 and _errors(factory) == [STRANDED, STRANDED, None]  # gave up at the first
    relay([third])
    assert broker.attempts == 1 and _errors(factory) == [STRANDED] * 3  # within the cooldown: not even tried

    broker.up = True  # the relay's own thread notices, relays every stranded row and unmarks it
    deadline = time.monotonic() + 5
    while relay._watcher is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(broker.published) == [first, second, third]
    assert _errors(factory) == [None] * 3
    relay([_outbox_rows(factory, 1)[0]])
    assert len(broker.published) == 4  # the broker is trusted again at once


def test_the_sweep_relays_rows_a_process_stranded_before_it_exited(factory: Any, broker: Broker) -> None:
    from workers.dispatch import STRANDED, CeleryRelay

    ids = _outbox_rows(factory, 2)
    with factory() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[0]).values(last_error=STRANDED))
        session.commit()
    broker.up = True
    assert CeleryRelay(factory).relay_stranded()  # what the beat's sweep runs, whatever the rows' age
    assert broker.published == [ids[0]]  # the other row is not stranded: left to its own task
    assert _errors(factory) == [None, None]
