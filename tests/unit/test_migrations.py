"""The migrations build the models' schema exactly, and tear it down, on SQLite and on MariaDB."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.engine import make_url

from engagement import migrate
from engagement.db import Base, make_engine, make_session_factory
from engagement.search.local import LocalIndex
from engagement.search.models import is_unmapped
from engagement.search.port import Query
from engagement.tables import import_models

MARIADB_SKIP = "set DATABASE_URL=mysql+pymysql://... to run migrations on MariaDB"


def _all_tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    return {name for name in _all_tables(url) if not is_unmapped(name)}  # FTS5's own tables: see below


def _assert_round_trip(url: str) -> None:
    import_models()
    migrate.upgrade(url)
    assert migrate.current(url) is not None
    assert _tables(url) == set(Base.metadata.tables)
    assert migrate.drift(url) == []

    migrate.downgrade(url, "base")
    assert migrate.current(url) is None
    assert _tables(url) == set()

    migrate.upgrade(url)
    assert migrate.drift(url) == []


def test_migrations_round_trip_on_sqlite(tmp_path: Path) -> None:
    _assert_round_trip(f"sqlite:///{tmp_path / 'migrations.db'}")


def test_the_search_full_text_table_comes_and_goes_with_its_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fts.db'}"
    migrate.upgrade(url)
    assert {"search_fts", "search_fts_vocab"} <= _all_tables(url)
    engine = make_engine(url)
    index = LocalIndex(make_session_factory(engine))  # what `make run` searches: a migrated database
    index.save([{"objectID": "committee-1", "kind": "committee", "title": "Comité Écologie de Lyon",
                 "expires_at": 4102444800}])
    assert [hit["title"] for hit in index.search(Query("ecologi", datetime.now(UTC))).hits] == [
        "Comité Écologie de Lyon"]
    engine.dispose()
    migrate.downgrade(url, "0010_workflow_rollup")
    assert {name for name in _all_tables(url) if name.startswith("search")} == set()


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A throwaway database next to the one DATABASE_URL names, dropped afterwards."""
    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith("mysql"):
        pytest.skip(MARIADB_SKIP)
    server_url = make_url(given)
    name = f"{(server_url.database or 'engagement')[:40]}_mig_{uuid.uuid4().hex[:8]}"  # names stop at 64
    server = create_engine(server_url.set(database=None), poolclass=pool.NullPool)
    with server.connect() as connection:
        connection.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


@pytest.mark.services
def test_migrations_round_trip_on_mariadb(mariadb_url: str) -> None:
    _assert_round_trip(mariadb_url)
