"""Shared fixtures: settings on a fresh database, the Flask app, a CSRF-aware client, a live server.

The database is a fresh SQLite file per test, or, when ``DATABASE_URL`` names MySQL/MariaDB, a
throwaway database created for the session and emptied between tests.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from engagement import PROJECT_ROOT
from engagement.config import Settings, load_settings
from engagement.db import Base, make_engine, make_session_factory
from engagement.invitations import content
from engagement.outbox import InProcessRelay
from engagement.tables import import_models
from engagement.workflow import definitions

SERVICE_URL = os.environ.get("DATABASE_URL", "")


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str | None]:
    """A throwaway MySQL database for this test session (None when DATABASE_URL is not MySQL)."""
    if not SERVICE_URL.startswith("mysql"):
        yield None
        return
    base = make_url(SERVICE_URL)
    name = f"engagement_t_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    url = base.set(database=name).render_as_string(hide_password=False)
    import_models()
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE `{name}`"))
    admin.dispose()


def _empty_mysql(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in Base.metadata.sorted_tables:
            conn.execute(text(f"DELETE FROM `{table.name}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


@pytest.fixture
def env(tmp_path: Path, mysql_url: str | None) -> dict[str, str]:
    """The environment of an isolated deployment: its own instance dir and database."""
    definitions.reset_caches()
    content.invalidate()
    if mysql_url:
        _empty_mysql(mysql_url)
    values = {
        "ENGAGEMENT_ENV": "test",
        "ENGAGEMENT_INSTANCE_DIR": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "DATABASE_URL": mysql_url or f"sqlite:///{tmp_path / 'engagement.db'}",
        "ENGAGEMENT_WORKFLOWS_DIR": str(PROJECT_ROOT / "workflows"),
    }
    if os.environ.get("REDIS_URL"):
        values["REDIS_URL"] = os.environ["REDIS_URL"]
        values["REDIS_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}:"  # rate limits start at zero in every test
    # CELERY_BROKER_URL is left out on purpose: tasks run in process unless a test starts a real
    # worker for its own database (tests/services/test_celery_relay.py).
    return values


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    settings = load_settings(env)
    if not settings.database_url.startswith("mysql"):
        import_models()
        engine = create_engine(settings.database_url)
        Base.metadata.create_all(engine)
        engine.dispose()
    return settings


@pytest.fixture
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test's database, outside any app (to arrange data and read what was committed)."""
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    from web.app import create_app

    app = create_app(settings)
    app.config["TESTING"] = True
    InProcessRelay.drain()  # the start-up's own work (the site's pages indexed) is done before the test's
    yield app
    InProcessRelay.drain()  # a campaign or a list still being built must not outlive its database
    app.extensions["engagement"].engine.dispose()


def _wizard_step(location: str) -> bool:
    """A wizard URL (``/w/<id>``, ``/w/<id>/<state>``): there a GET answers 303 to the step's own URL."""
    return location.startswith("/w/")


class FormClient:
    """A test client that reads the CSRF token and step token from the page, as a browser would."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.last_html = ""
        self.last_url = ""

    def get(self, url: str, **kwargs: Any) -> Any:
        """GET as a browser would; the wizard's 303 to the step's own URL is followed (``follow=False``: not)."""
        follow = kwargs.pop("follow", _wizard_step(url))
        response = self.client.get(url, **kwargs)
        while follow and response.status_code == 303 and _wizard_step(response.headers.get("Location", "")):
            url = response.headers["Location"]
            response = self.client.get(url, **kwargs)
        self.last_html = response.get_data(as_text=True)
        self.last_url = url
        return response

    def hidden(self, name: str, html: str | None = None) -> str:
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html or self.last_html)
        if found is None:
            raise AssertionError(f"no hidden input {name!r} on the page")
        return found.group(1)

    def post(self, url: str, data: dict[str, Any] | None = None, page: str | None = None, **kwargs: Any) -> Any:
        """POST with the CSRF token (and step token, unless given) of the page last fetched from ``page``, as a
        browser would: a page without one (a 404, a form exempt from CSRF) sends none."""
        html = self.get(page).get_data(as_text=True) if page else self.last_html
        payload = {"csrf_token": self.hidden("csrf_token", html)} if 'name="csrf_token"' in html else {}
        if 'name="step"' in html:
            payload["step"] = self.hidden("step", html)
        payload.update(data or {})
        response = self.client.post(url, data=payload, **kwargs)
        self.last_html = response.get_data(as_text=True)
        return response


@pytest.fixture
def client(app: Any) -> FormClient:
    return FormClient(app.test_client())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(env: dict[str, str], settings: Settings) -> Iterator[str]:
    """The real app under gunicorn (2 workers) on a free loopback port; yields its base URL."""
    port = _free_port()
    # Only what `env` says reaches the server: a broker in the shell would take its mail to no worker.
    yield from serving([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                        "web.wsgi:app"], port, env, log_name="server.log", drop=("CELERY_BROKER_URL",))


def serving(command: list[str], port: int, env: dict[str, str], *, log_name: str,
            drop: tuple[str, ...]) -> Iterator[str]:
    """Run ``command`` (a server on ``port``) with the shell's environment minus ``drop``, plus ``env``;
    yield its base URL once /healthz answers, and stop it after."""
    log = Path(env["ENGAGEMENT_INSTANCE_DIR"]) / log_name
    log.parent.mkdir(parents=True, exist_ok=True)
    inherited = {k: v for k, v in os.environ.items() if k not in drop}
    with log.open("w") as out:
        process = subprocess.Popen(command, env={**inherited, **env}, stdout=out, stderr=subprocess.STDOUT,
                                   cwd=PROJECT_ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, log)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer in 30 s:\n{log.read_text()}")
