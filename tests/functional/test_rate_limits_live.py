"""Rate limits on the real server (`engagement serve`, 2 workers): the counters are shared by the workers,
so a limit holds whichever process answers. Embedded (counters in the database) and, when ``REDIS_URL`` is
set, in Redis: the same assertions."""

from __future__ import annotations

import re
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import func, select

from engagement.accounts.service import create_user
from engagement.db import transaction
from engagement.invitations.models import Invitation
from tests.conftest import FormClient, _free_port, serving
from tests.functional.helpers import text
from tests.functional.invitation_steps import PASSWORD, invite, send, start_again, to_summary

WRONG = "Wrong email or password."
LOCKED = "Too many failed attempts: wait 10 minutes before trying again."
#: gunicorn's access log, one line a request: the worker's pid (``<1234>``), the method, the path, the status.
ACCESS_FORMAT = "worker=%(p)s %(m)s %(U)s %(s)s"
ACCESS_LINE = re.compile(r"worker=<(\d+)> (\w+) (\S+) (\d{3})")


class FromAddress(HTTPAdapter):
    """Connections from one loopback address (all of 127.0.0.0/8 is this machine's): one client each."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


class Browser:
    """A `requests` session that answers like Flask's test client, so that `FormClient` (CSRF and step tokens,
    the wizard's redirects) drives the real server as it drives the app in process."""

    def __init__(self, base: str, address: str = "127.0.0.1") -> None:
        self.base, self.http = base, requests.Session()
        self.http.mount("http://", FromAddress(address))
        self.http.cookies.set("lang", "en")  # the source strings, whatever the catalogs say

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._wrapped(self.http.get(self.base + url, allow_redirects=False, timeout=30, **kwargs))

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self._wrapped(self.http.post(self.base + url, data=data, allow_redirects=False, timeout=30, **kwargs))

    @staticmethod
    def _wrapped(response: requests.Response) -> requests.Response:
        response.get_data = lambda as_text=False: response.text if as_text else response.content  # type: ignore[attr-defined]
        return response


@pytest.fixture
def served(env: dict[str, str], settings: Any) -> Iterator[tuple[str, Path]]:
    """`engagement serve` with its 2 workers on a free port; yields its URL and the access log (with pids)."""
    port = _free_port()
    log = Path(env["ENGAGEMENT_INSTANCE_DIR"]) / "serve.log"
    command = [sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers", "2"]
    options = {"GUNICORN_CMD_ARGS": f"--access-logformat '{ACCESS_FORMAT}'"}
    for base in serving(command, port, {**env, **options}, log_name=log.name, drop=("CELERY_BROKER_URL",)):
        yield base, log


def answered_by(log: Path, method: str, path: str) -> Counter[str]:
    """How many ``method path`` requests each worker (by pid) answered."""
    found = (ACCESS_LINE.search(line) for line in log.read_text().splitlines())
    return Counter(m.group(1) for m in found if m and (m.group(2), m.group(3)) == (method, path))


@contextmanager
def neighbour(base: str) -> Iterator[None]:
    """Another client hitting ``/healthz`` meanwhile, so that a worker is now and then busy and the other one
    answers: alone, a client's sequential requests may all be accepted by the same idle worker (the kernel does
    not take turns), and the test would show nothing about counters shared between processes."""
    stop = threading.Event()

    def load() -> None:
        with requests.Session() as http:
            while not stop.is_set():
                http.get(base + "/healthz", timeout=30)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def attempt(browser: FormClient, email: str, password: str) -> str:
    browser.get("/login")
    response = browser.post("/login", {"email": email, "password": password})
    page = text(browser.last_html)
    if response.status_code == 303:
        return "in"
    assert response.status_code == 422, (response.status_code, page[:500])
    return "locked" if LOCKED in page else "wrong" if WRONG in page else page[:500]


def test_the_login_lock_comes_at_the_sixth_try_whichever_worker_answers(served, factory):
    base, log = served
    with transaction(factory) as session:
        for email in ("lou@example.org", "sam@example.org"):
            create_user(session, email, password=PASSWORD)
    attacker = FormClient(Browser(base, "127.0.0.2"))
    with neighbour(base):
        tries = [attempt(attacker, "lou@example.org", "not the password at all") for _ in range(5)]
        tries.append(attempt(attacker, "lou@example.org", PASSWORD))  # the right password, too late
        locked_out = attempt(attacker, "sam@example.org", PASSWORD)
        others = [attempt(FormClient(Browser(base, f"127.0.0.{n}")), "lou@example.org", PASSWORD)
                  for n in range(3, 13)]
    assert tries == ["wrong"] * 5 + ["locked"]
    assert locked_out == "locked"  # this client, whatever the address
    assert others == ["locked"] * 10  # this address, whatever the client
    assert attempt(FormClient(Browser(base, "127.0.0.13")), "sam@example.org", PASSWORD) == "in"  # no one else
    assert len(answered_by(log, "POST", "/login")) == 2, "one worker answered every try: nothing was shown"


def test_one_client_sends_exactly_ten_invitations_an_hour_whichever_worker_answers(served, factory):
    base, log = served
    browser = FormClient(Browser(base))
    with neighbour(base):
        for number in range(10):
            if number:
                start_again(browser)
            invite(browser, friend_email=f"friend{number}@example.net", self_email=f"sender{number}@example.org")
        start_again(browser)
        to_summary(browser)
        refused = send(browser, friend_email="friend10@example.net", self_email="sender10@example.org")
    assert refused.status_code == 429
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Invitation)) == 10
    assert len(answered_by(log, "POST", "/w/invitation")) == 2, "one worker answered every step: nothing was shown"
