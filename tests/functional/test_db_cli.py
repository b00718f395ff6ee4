"""`engagement db upgrade --sql`: the SQL of a release's migrations, printed for review without running it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from engagement import migrate
from tests.unit.test_migrations import mariadb_url  # noqa: F401 - a fixture
from web.cli import main

# A MariaDB URL nothing listens on: printing the SQL must not need the database.
NOWHERE = "mysql+pymysql://reviewer@127.0.0.1:1/engagement?charset=utf8mb4"


def run(monkeypatch: pytest.MonkeyPatch, url: str, *args: str) -> Result:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    return CliRunner().invoke(main, ["db", "upgrade", *args], catch_exceptions=False)


def test_the_sql_from_a_revision_covers_the_later_ones_only(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(monkeypatch, NOWHERE, "--sql", "--from", "0006_mail_ledger")
    assert result.exit_code == 0, result.output
    sql = result.stdout
    assert "CREATE TABLE campaigns (" in sql and "ALTER TABLE mail_messages ADD COLUMN campaign_id" in sql
    assert "CREATE TABLE workflow_instances" not in sql  # 0001's, already applied
    # The Python backfill cannot be printed: the script says so where it would run.
    assert "-- 0007_campaigns: users.department is backfilled in Python" in sql
    assert "UPDATE alembic_version SET version_num='0007_campaigns'" in sql


def test_the_sql_from_base_creates_everything_up_to_the_head(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(monkeypatch, NOWHERE, "--sql", "--from", "base")
    assert result.exit_code == 0, result.output
    assert "CREATE TABLE alembic_version" in result.stdout
    assert "CREATE TABLE workflow_instances" in result.stdout and "CREATE TABLE campaigns (" in result.stdout
    head = migrate.alembic_config(NOWHERE)
    from alembic.script import ScriptDirectory

    assert f"version_num='{ScriptDirectory.from_config(head).get_current_head()}'" in result.stdout


def test_without_from_it_starts_at_the_database_s_revision_and_changes_nothing(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    migrate.upgrade(url, "0006_mail_ledger")
    result = run(monkeypatch, url, "--sql")
    # SQLite's batch migrations need the live tables, so there is no script to print: a clear error.
    assert result.exit_code == 1 and "no SQL for review" in result.output
    assert "Traceback" not in result.output
    assert migrate.current(url) == "0006_mail_ledger"


def test_from_goes_with_sql_only(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    result = run(monkeypatch, f"sqlite:///{tmp_path / 'e.db'}", "--from", "base")
    assert result.exit_code == 2 and "--from goes with --sql" in result.output


@pytest.mark.services
def test_on_mariadb_it_starts_at_the_database_s_revision_and_runs_nothing(
        monkeypatch: pytest.MonkeyPatch, mariadb_url: str) -> None:  # noqa: F811 - the imported fixture
    migrate.upgrade(mariadb_url, "0006_mail_ledger")
    result = run(monkeypatch, mariadb_url, "--sql")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("-- Running upgrade 0006_mail_ledger -> 0007_campaigns")
    assert "CREATE TABLE campaigns (" in result.stdout
    assert migrate.current(mariadb_url) == "0006_mail_ledger"  # printed, not run
