"""Redis and RabbitMQ die mid-run and come back: the site degrades gracefully and recovers by itself.

Private services, so that the shared ones (and a CI run using them) are never touched: a
``redis-server`` and a RabbitMQ node of this test's own, each on free ports, killed with SIGKILL and
started again. On them: the real app under gunicorn, a real Celery worker process, and Mailjet's
loopback fake, which records every message it receives.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from engagement import PROJECT_ROOT
from engagement.mail.models import MailMessage
from engagement.mail.service import DELIVER_TOPIC
from engagement.outbox import OutboxMessage
from tests.fakes.mailjet import FakeMailjet
from workers.dispatch import STRANDED

RABBITMQ_SERVER = shutil.which("rabbitmq-server", path=f"/usr/lib/rabbitmq/bin:{os.environ.get('PATH', '')}")
REDIS_SERVER = shutil.which("redis-server")
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not (os.environ.get("REDIS_URL") and os.environ.get("CELERY_BROKER_URL")),
                       reason="set REDIS_URL and CELERY_BROKER_URL to run the outage test"),
    pytest.mark.skipif(not (RABBITMQ_SERVER and REDIS_SERVER),
                       reason="the outage test starts its own redis-server and rabbitmq-server: not installed"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if found := check():
                return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)


class Service:
    """A server process of this test's own, in its own process group: killed whole, started again."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path,
                 ready: Callable[[], Any] | None = None) -> None:
        self.command, self.env, self.log, self.ready = command, env, log, ready
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        """Start the process and, when it has a ``ready`` check, wait until it answers."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            cwd=PROJECT_ROOT, start_new_session=True)
        if self.ready is not None:
            try:
                _until(self.ready, timeout, f"{Path(self.command[0]).name} answering")
            except AssertionError as error:
                raise AssertionError(f"{error}\n{self.log.read_text()[-3000:]}") from None

    def kill(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None


def _redis_answers(url: str) -> bool:
    import redis

    return bool(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping())


def _broker_answers(url: str) -> bool:
    from kombu import Connection

    with Connection(url, connect_timeout=1) as connection:
        connection.ensure_connection(max_retries=0)
    return True


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[Service, str]]:
    """Its own redis-server; append-only with fsync, so the sessions stored before a kill are there after."""
    port, data = _free_port(), tmp_path / "redis"
    data.mkdir()
    command = [str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
               "--appendfsync", "always", "--dir", str(data)]
    url = f"redis://127.0.0.1:{port}/0"
    service = Service(command, dict(os.environ), tmp_path / "redis.log", ready=lambda: _redis_answers(url))
    service.start()
    yield service, url
    service.kill()


@pytest.fixture
def private_rabbitmq(tmp_path: Path) -> Iterator[tuple[Service, str]]:
    """Its own RabbitMQ node (own name, ports, cookie, data and config; no plugin): about 4 s to start."""
    base = tmp_path / "rabbitmq"
    for folder in ("home", "mnesia", "log"):
        (base / folder).mkdir(parents=True)
    port, dist = _free_port(), _free_port()
    (base / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{port}\n")
    (base / "rabbitmq-env.conf").write_text("")  # not the system's (it names the shared node)
    (base / "enabled_plugins").write_text("[].\n")
    env = {**os.environ, "HOME": str(base / "home"), "ERL_EPMD_ADDRESS": "127.0.0.1",
           "RABBITMQ_NODENAME": f"engagement-test-{uuid.uuid4().hex[:8]}@localhost",
           "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_NODE_PORT": str(port), "RABBITMQ_DIST_PORT": str(dist),
           "RABBITMQ_MNESIA_BASE": str(base / "mnesia"), "RABBITMQ_LOG_BASE": str(base / "log"),
           "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
           "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
           "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"), "RABBITMQ_PID_FILE": str(base / "pid")}
    url = f"amqp://guest:guest@127.0.0.1:{port}//"
    service = Service([str(RABBITMQ_SERVER)], env, tmp_path / "rabbitmq.log", ready=lambda: _broker_answers(url))
    service.start()
    yield service, url
    service.kill()


@pytest.fixture
def fake() -> Iterator[FakeMailjet]:
    with FakeMailjet() as server:
        yield server


@pytest.fixture
def worker(env: dict[str, str], private_redis: Any, private_rabbitmq: Any, fake: FakeMailjet,
           tmp_path: Path) -> Iterator[Service]:
    """A Celery worker process, and the environment of the deployment, on the private Redis and broker."""
    env.update({"REDIS_URL": private_redis[1], "CELERY_BROKER_URL": private_rabbitmq[1], "MAIL_BACKEND": "mailjet",
                "MAILJET_API_KEY": fake.api_key, "MAILJET_API_SECRET": fake.api_secret, "MAILJET_API_URL": fake.url})
    command = [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "--pool", "solo", "--loglevel", "INFO",
               "-Q", "transactional", "--without-gossip", "--without-mingle"]
    service = Service(command, {**os.environ, **env}, tmp_path / "worker.log")
    service.start()
    yield service
    service.kill()


@pytest.fixture
def site(worker: Any, request: Any) -> str:
    """The app under gunicorn (2 workers), started once ``env`` names the private services."""
    return request.getfixturevalue("live_server")


class Browser:
    """One visitor: a cookie jar, and the CSRF and step tokens of the page last seen, as a browser sends them."""

    def __init__(self, base: str) -> None:
        self.base, self.http, self.html = base, requests.Session(), ""

    def get(self, path: str) -> requests.Response:
        response = self.http.get(self.base + path, timeout=10)
        self.html = response.text
        return response

    def hidden(self, name: str) -> str:
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', self.html)
        assert found, f"no hidden input {name!r} on the page"
        return found.group(1)

    def post(self, path: str, data: dict[str, Any]) -> requests.Response:
        payload = {"csrf_token": self.hidden("csrf_token")} if 'name="csrf_token"' in self.html else {}
        if 'name="step"' in self.html:
            payload["step"] = self.hidden("step")
        response = self.http.post(self.base + path, data={**payload, **data}, allow_redirects=False, timeout=10)
        self.html = response.text
        return response


def _volunteer(browser: Browser, email: str) -> float:
    """Complete the volunteer workflow (its last step mails the volunteer); returns that step's duration."""
    steps = [{"trigger": "next", "first_name": "Lou", "email": email, "age": "34"},
             {"trigger": "next", "missions": ["events"]}, {"trigger": "next", "terms": "y"},
             {"trigger": "confirm"}]
    for answers in steps:
        assert browser.get("/w/volunteer").status_code == 200
        started = time.monotonic()
        assert browser.post("/w/volunteer", answers).status_code == 303
        took = time.monotonic() - started
    assert browser.get("/w/volunteer").status_code == 200
    return took


def _unavailable(response: requests.Response) -> bool:
    return response.status_code == 503 and response.headers.get("Retry-After", "").isdigit()


def _ready(base: str) -> requests.Response:
    return requests.get(f"{base}/readyz", timeout=10)


def _mail(url: str) -> tuple[list[tuple[str, str]], list[OutboxMessage]]:
    engine = create_engine(url)
    with Session(engine) as session:
        mails = [(m.to[0], m.status) for m in session.scalars(select(MailMessage).order_by(MailMessage.id))]
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.topic == DELIVER_TOPIC)  # (not the
                                    .order_by(OutboxMessage.id)))  # start-up's indexing of the site's pages)
        session.expunge_all()
    engine.dispose()
    return mails, rows


def test_redis_and_rabbitmq_die_and_come_back_and_nothing_is_lost(
        site: str, worker: Service, private_redis: tuple[Service, str],
        private_rabbitmq: tuple[Service, str], fake: FakeMailjet, settings: Any) -> None:
    redis_server, broker = private_redis[0], private_rabbitmq[0]
    url = settings.database_url

    # Everything up: a supporter volunteers, the worker mails them.
    first = Browser(site)
    took_up = _volunteer(first, "first@example.org")
    _until(lambda: fake.recipients() == ["first@example.org"], 30, "the first mail reaching Mailjet")
    assert first.get("/login").status_code == 200
    token = first.hidden("csrf_token")  # the log-in form's, kept in the session in Redis

    # Redis dies: pages render, a form answers the friendly 503, /readyz names Redis.
    redis_server.kill()
    started = time.monotonic()
    assert [first.get(path).status_code for path in ("/", "/events", "/login")] == [200, 200, 200]
    took_pages = time.monotonic() - started
    assert took_pages < 5  # a safety net against hanging, not a benchmark
    print(f"\nthree pages with Redis dead: {took_pages:.3f} s")
    first.get("/login")
    assert _unavailable(first.post("/login", {"email": "first@example.org", "password": "a long enough secret"}))
    assert _unavailable(first.get("/w/volunteer"))
    assert _ready(site).status_code == 503 and _ready(site).json()["down"] == ["redis"]

    # Redis is back: /readyz says so, and the session kept from before the outage works again
    # (the token of a page fetched before the outage is still accepted).
    redis_server.start()
    restarted = time.monotonic()
    _until(lambda: _ready(site).status_code == 200, 30, "/readyz back to 200 after Redis")
    _until(lambda: first.post("/logout", {"csrf_token": token}).status_code == 303, 15,
           "the session from before the outage working again")
    time.sleep(max(0.0, restarted + 5 - time.monotonic()))  # every gunicorn worker's breaker closed (5 s at most)

    # The broker dies: a supporter still completes the flow; the mail waits in the outbox, stranded.
    broker.kill()
    second = Browser(site)
    took_down = _volunteer(second, "second@example.org")
    mails, rows = _mail(url)
    assert mails == [("first@example.org", "sent"), ("second@example.org", "queued")]
    assert rows[-1].delivered_at is None and rows[-1].last_error == STRANDED
    assert took_down < 5  # does not hang: the publish fails fast and the row is left to the relay
    ready = _ready(site)
    assert ready.status_code == 503 and ready.json()["down"] == ["broker"]
    print(f"confirm step committing a mail: {took_up:.3f} s with the broker up, {took_down:.3f} s with it down")

    # The broker is back: without anyone doing anything, the stranded mail leaves, exactly once.
    back = time.monotonic()
    broker.start()
    _until(lambda: _mail(url)[0][-1][1] == "sent", 60, "the stranded mail sent once the broker is back")
    print(f"stranded mail sent {time.monotonic() - back:.1f} s after the broker was started again")
    time.sleep(2)  # time for a second delivery, if there were one
    mails, rows = _mail(url)
    assert mails == [("first@example.org", "sent"), ("second@example.org", "sent")]
    assert sorted(fake.recipients()) == ["first@example.org", "second@example.org"]  # each exactly once
    assert all(row.delivered_at is not None for row in rows)
    assert _ready(site).status_code == 200

    # The broker dies right after taking a mail that no worker has consumed yet (none runs): the mail
    # is not lost, because RabbitMQ confirmed it was on disk before the request answered.
    worker.kill()
    _volunteer(Browser(site), "third@example.org")
    broker.kill()
    broker.start()
    worker.start()
    _until(lambda: _mail(url)[0][-1][1] == "sent", 60, "the mail taken just before the crash sent")
    time.sleep(2)
    assert sorted(fake.recipients()) == ["first@example.org", "second@example.org", "third@example.org"]
    assert _mail(url)[1][-1].last_error is None  # it was never stranded: the broker had it
