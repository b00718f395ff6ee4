"""Functional fixtures: a client that also checks no page leaks a traceback, and a database reader."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from engagement.config import Settings
from engagement.db import make_engine, make_session_factory
from tests.conftest import FormClient


class CheckedClient(FormClient):
    """A FormClient for which any page showing a traceback fails the test."""

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._checked(super().get(url, **kwargs))

    def post(self, url: str, data: dict[str, Any] | None = None, page: str | None = None, **kwargs: Any) -> Any:
        return self._checked(super().post(url, data, page, **kwargs))

    def _checked(self, response: Any) -> Any:
        assert "Traceback" not in self.last_html, self.last_html[:2000]
        return response


@pytest.fixture
def client(app: Any) -> CheckedClient:
    return CheckedClient(app.test_client())


@pytest.fixture
def new_client(app: Any) -> Callable[[], CheckedClient]:
    """Another browser (its own cookie jar) on the same app."""
    return lambda: CheckedClient(app.test_client())


@pytest.fixture
def read(settings: Settings) -> Iterator[Callable[[], Session]]:
    """Fresh database sessions outside the app, to check what was really committed."""
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    opened: list[Session] = []

    def open_session() -> Session:
        opened.append(factory())
        return opened[-1]

    yield open_session
    for session in opened:
        session.close()
    engine.dispose()
