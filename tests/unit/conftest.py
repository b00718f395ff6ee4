"""Fixtures of the unit tests: a test registry, a real SQLite core, a session on the test's database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from engagement.config import Settings, load_settings
from engagement.core import Core, bootstrap
from engagement.db import Base, make_engine, make_session_factory
from engagement.outbox import InProcessRelay
from engagement.workflow import definitions
from engagement.workflow.registry import REGISTRY, Registry


@pytest.fixture
def registry() -> Registry:
    """What the fixture files may name: one action, one choice set and one mail template."""
    registry = Registry(mail_templates=lambda: {"welcome"})
    registry.action("sample.save")(lambda context: None)
    registry.choice_set("sample.colors")(lambda session, locale: [("red", {"en": "Red"})])
    return registry


@pytest.fixture
def core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Core]:
    """The wired core on a fresh SQLite file; mail is stored and marked sent right after commit."""
    # Process-wide caches map (workflow, version) to database ids: each test has its own database.
    monkeypatch.setattr(definitions, "_ACTIVE", {})
    monkeypatch.setattr(definitions, "_VERSIONS", {})
    monkeypatch.setattr(REGISTRY, "mail_templates", REGISTRY.mail_templates)  # bootstrap replaces it
    settings = load_settings({
        "ENGAGEMENT_ENV": "test",
        "ENGAGEMENT_INSTANCE_DIR": str(tmp_path),
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'engagement.db'}",
        "MAIL_BACKEND": "outbox",
    })
    core = bootstrap(settings)
    Base.metadata.create_all(core.engine)
    yield core
    InProcessRelay.drain()
    core.engine.dispose()


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    """A session on the test's fresh database (SQLite, or MariaDB with DATABASE_URL), rolled back."""
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session:
        yield session
        session.rollback()
    engine.dispose()
