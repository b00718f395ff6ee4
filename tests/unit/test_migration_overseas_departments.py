"""Migration 0019: the "98" (and any other wrong department) stored for members, committees and events is
recomputed from their address, on SQLite and on MariaDB; their search records follow, and the audience lists
of the departments concerned are dropped to be built again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import pool

from engagement import migrate
from tests.unit.test_migrations import mariadb_url  # noqa: F401  (a fixture)

BEFORE = "0018_rate_limits"
NOW = datetime(2026, 12, 1, 12, 0)  # naive UTC, as the columns store it
NOUMEA = {"street": "1 rue de Sébastopol", "postal_code": "98800", "city": "98818", "city_name": "Nouméa",
          "country": "FR"}
PAPEETE = {"street": "1 boulevard Pomare", "postal_code": "98714", "city": "98735", "city_name": "Papeete",
           "country": "FR"}
UVEA = {"street": "Mata-Utu", "postal_code": "98600", "city": "98613", "city_name": "Uvea", "country": "FR"}
GUSTAVIA = {"street": "rue du Bord de Mer", "postal_code": "97133", "city": "", "city_name": "", "country": "FR"}
PARIS = {"street": "1 rue de Rivoli", "postal_code": "75001", "city": "75101", "city_name": "Paris 1er",
         "country": "FR"}
USERS = [("noumea@example.org", NOUMEA, "98"), ("papeete@example.org", PAPEETE, "98"),
         ("uvea@example.org", UVEA, "98"), ("gustavia@example.org", GUSTAVIA, "971"),
         ("paris@example.org", PARIS, "75"), ("none@example.org", None, None)]
EXPECTED = {"noumea@example.org": "988", "papeete@example.org": "987", "uvea@example.org": "986",
            "gustavia@example.org": "977", "paris@example.org": "75", "none@example.org": None}


def _table(name: str, *columns: sa.Column[Any]) -> sa.TableClause:
    return sa.table(name, *columns)


USERS_TABLE = _table("users", sa.column("email", sa.String()), sa.column("address", sa.JSON()),
                     sa.column("department", sa.String()), sa.column("created_at", sa.DateTime()),
                     sa.column("interests", sa.JSON()))
COMMITTEES = _table("committees", sa.column("id", sa.Integer()), sa.column("slug", sa.String()),
                    sa.column("name", sa.String()), sa.column("description", sa.Text()),
                    sa.column("address", sa.JSON()), sa.column("postal_code", sa.String()),
                    sa.column("department", sa.String()), sa.column("status", sa.String()),
                    sa.column("created_at", sa.DateTime()))
EVENTS = _table("events", sa.column("id", sa.Integer()), sa.column("slug", sa.String()), sa.column("name", sa.String()),
                sa.column("description", sa.Text()), sa.column("begins_at", sa.DateTime()),
                sa.column("ends_at", sa.DateTime()), sa.column("timezone", sa.String()),
                sa.column("address", sa.JSON()), sa.column("postal_code", sa.String()),
                sa.column("department", sa.String()), sa.column("category", sa.String()),
                sa.column("status", sa.String()), sa.column("created_at", sa.DateTime()))
RECORDS = _table("search_records", sa.column("object_id", sa.String()), sa.column("kind", sa.String()),
                 sa.column("department", sa.String()), sa.column("title", sa.Text()), sa.column("words", sa.Text()),
                 sa.column("record", sa.JSON()), sa.column("updated_at", sa.DateTime()))
LISTS = _table("audience_lists", sa.column("key", sa.String()), sa.column("count", sa.Integer()))


def _arrange(connection: sa.Connection) -> None:
    """What the code before 0019 stored: "98" for the three Pacific collectivities, 971 for Saint-Barthélemy."""
    connection.execute(USERS_TABLE.insert(), [{"email": email, "address": address, "department": department,
                                               "created_at": NOW, "interests": []}
                                              for email, address, department in USERS])
    for number, (address, department) in enumerate([(NOUMEA, "98"), (PARIS, "75")], start=1):
        connection.execute(COMMITTEES.insert().values(
            id=number, slug=f"c{number}", name=f"C{number}", description="", address=address,
            postal_code=address["postal_code"], department=department, status="approved", created_at=NOW))
        connection.execute(EVENTS.insert().values(
            id=number, slug=f"e{number}", name=f"E{number}", description="", begins_at=NOW, ends_at=NOW,
            timezone="Pacific/Noumea", address=address, postal_code=address["postal_code"], department=department,
            category="meeting", status="scheduled", created_at=NOW))
        for kind in ("committee", "event"):
            connection.execute(RECORDS.insert().values(
                object_id=f"{kind}-{number}", kind=kind, department=department, title="t", words="w",
                record={"objectID": f"{kind}-{number}", "department": department, "title": "T"}, updated_at=NOW))
    connection.execute(LISTS.insert(), [{"key": key, "count": 1} for key in
                                        ("department:98", "department:971", "department:75", "committee:1")])


def _assert_recomputed(connection: sa.Connection) -> None:
    users = dict(connection.execute(sa.select(USERS_TABLE.c.email, USERS_TABLE.c.department)).all())
    assert users == EXPECTED
    assert dict(connection.execute(sa.select(COMMITTEES.c.slug, COMMITTEES.c.department)).all()) == {
        "c1": "988", "c2": "75"}
    assert dict(connection.execute(sa.select(EVENTS.c.slug, EVENTS.c.department)).all()) == {"e1": "988", "e2": "75"}
    records = {object_id: (department, record["department"]) for object_id, department, record in
               connection.execute(sa.select(RECORDS.c.object_id, RECORDS.c.department, RECORDS.c.record))}
    assert records == {"committee-1": ("988", "988"), "event-1": ("988", "988"), "committee-2": ("75", "75"),
                       "event-2": ("75", "75")}
    assert set(connection.scalars(sa.select(LISTS.c.key))) == {"department:75", "committee:1"}


def _assert_migration(url: str) -> None:
    migrate.upgrade(url, BEFORE)
    engine = sa.create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            _arrange(connection)
        migrate.upgrade(url)
        with engine.connect() as connection:
            _assert_recomputed(connection)
        migrate.downgrade(url, BEFORE)  # leaves the corrected values
        with engine.connect() as connection:
            assert dict(connection.execute(sa.select(USERS_TABLE.c.email, USERS_TABLE.c.department)).all()) == EXPECTED
    finally:
        engine.dispose()


def test_the_departments_are_recomputed_on_sqlite(tmp_path: Path) -> None:
    _assert_migration(f"sqlite:///{tmp_path / 'departments.db'}")


@pytest.mark.services
def test_the_departments_are_recomputed_on_mariadb(mariadb_url: str) -> None:  # noqa: F811
    _assert_migration(mariadb_url)


def test_the_sql_for_review_says_the_recomputation_is_done_in_python(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sql.db'}"
    assert "0019_overseas_departments" in migrate.upgrade_sql(url, BEFORE)
