"""A command that needs the tables, on a database not migrated to this version, says so in one line (issue #23).

`engagement demo load` on a fresh instance folder, before `engagement db upgrade`, ended in a 77-line SQLAlchemy
traceback ("no such table: workflow_definitions"). Every command that opens the core now compares the
database's Alembic revision with the revision files' head first (web/cli/__init__.py ``_require_schema``); `db upgrade`
itself, and the commands that never touch the database, are not held back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result

from engagement.migrate import MIGRATIONS_DIR
from web.cli import main

NOT_MIGRATED = "Error: the database is not migrated: run `engagement db upgrade` first\n"
NEEDS_SCHEMA = [
    ["demo", "load"], ["mail", "list"], ["users", "create", "nouveau@example.org"], ["outbox", "relay"],
    ["stats", "volunteer"], ["campaign", "show", "1"], ["workflows", "list"], ["under-attack", "status"],
    ["under-attack", "on", "--no-warm"], ["events", "remind"], ["privacy", "purge", "--dry-run"],
    ["search", "reindex"],
]


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """`engagement ARGS` on an instance folder of its own whose SQLite database nobody migrated."""
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the instance folder's own SQLite file, whatever the shell
    monkeypatch.setenv("ENGAGEMENT_ENV", "test")
    monkeypatch.setenv("SECRET_KEY", "test-secret-key-of-this-test")
    monkeypatch.setenv("ENGAGEMENT_INSTANCE_DIR", str(tmp_path / "instance"))
    return lambda *args: CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("args", NEEDS_SCHEMA, ids=" ".join)
def test_a_command_on_a_database_never_migrated_says_to_migrate_first(fresh: Callable[..., Result],
                                                                      args: list[str]) -> None:
    result = fresh(*args)
    assert result.exit_code == 1, result.output
    assert result.output == NOT_MIGRATED  # one line, no traceback
    assert isinstance(result.exception, SystemExit)


def test_db_upgrade_and_commands_without_the_database_are_not_held_back(fresh: Callable[..., Result]) -> None:
    assert fresh("workflows", "check").exit_code == 0
    assert fresh("db", "current").output == "(empty)\n"
    upgraded = fresh("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    listed = fresh("mail", "list")
    assert listed.exit_code == 0 and listed.output == ""


def test_a_database_behind_this_version_names_both_revisions(fresh: Callable[..., Result]) -> None:
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    head = scripts.get_current_head()
    assert head is not None
    previous = scripts.get_revision(head).down_revision
    assert isinstance(previous, str)
    assert fresh("db", "upgrade", previous).exit_code == 0
    result = fresh("mail", "list")
    assert result.exit_code == 1
    assert result.output == (f"Error: the database is at revision {previous}, this version needs {head}: "
                             "run `engagement db upgrade` first\n")
