"""Functional fixtures: a client that also checks no page leaks a traceback, and a database reader."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from engagement.config import Settings
from engagement.db import make_engine, make_session_factory
from engagement.outbox import InProcessRelay
from web.cli import main


class CheckedClient:
    """Wraps the shared FormClient: any page showing a traceback fails the test."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._checked(self.inner.get(url, **kwargs))

    def post(self, url: str, data: dict[str, Any] | None = None, page: str | None = None, **kwargs: Any) -> Any:
        return self._checked(self.inner.post(url, data, page, **kwargs))

    def _checked(self, response: Any) -> Any:
        assert "Traceback" not in self.inner.last_html, self.inner.last_html[:2000]
        return response


def _own_address(form_client: Any) -> Any:
    # Login attempts are rate-limited per address, in Redis when configured (shared by every test).
    form_client.client.environ_base["REMOTE_ADDR"] = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.1"
    return form_client


@pytest.fixture
def client(client: Any) -> CheckedClient:
    return CheckedClient(_own_address(client))


@pytest.fixture
def new_client(app: Any, client: CheckedClient) -> Callable[[], CheckedClient]:
    """Another browser (its own cookie jar and address) on the same app."""
    return lambda: CheckedClient(_own_address(type(client.inner)(app.test_client())))


@pytest.fixture
def read(settings: Settings) -> Iterator[Callable[[], Session]]:
    """Fresh database sessions outside the app, to check what was really committed."""
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    opened: list[Session] = []

    def open_session() -> Session:
        InProcessRelay.drain()  # what the requests left to do after their answer (a reset link, say) is done
        opened.append(factory())
        return opened[-1]

    yield open_session
    for session in opened:
        session.close()
    engine.dispose()


@pytest.fixture
def cli(env: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``engagement ARGS`` with the deployment's environment (tables created by ``settings``)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # As in every deployment the tests make: tasks run in process unless a test starts its own worker.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)

    def run(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)

    return run
