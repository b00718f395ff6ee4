"""``engagement db``: Alembic migrations."""

from __future__ import annotations

import click

from web.cli import _settings, main


@main.group()
def db() -> None:
    """Database migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.option("--sql", "as_sql", is_flag=True,
              help="print the SQL instead of running it, for review (the database is only read for its revision)")
@click.option("--from", "start", default=None, metavar="REV",
              help="with --sql: the revision to start from, without reading the database ('base' for an empty one)")
def db_upgrade(revision: str, as_sql: bool, start: str | None) -> None:
    from engagement import migrate

    if as_sql:
        url = _settings().database_url
        if start is None:
            start = migrate.current(url)
        from alembic.util.exc import CommandError

        try:
            click.echo(migrate.upgrade_sql(url, None if start == "base" else start, revision), nl=False)
        except CommandError as exc:  # SQLite's batch migrations reflect the live tables: no SQL to print
            raise click.ClickException(f"no SQL for review: {exc}") from None
        return
    if start is not None:
        raise click.UsageError("--from goes with --sql")
    migrate.upgrade(_settings().database_url, revision)
    click.echo(f"database at {migrate.current(_settings().database_url)}", err=True)


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    from engagement import migrate

    migrate.downgrade(_settings().database_url, revision)
    click.echo(f"database at {migrate.current(_settings().database_url)}", err=True)


@db.command("current")
def db_current() -> None:
    from engagement import migrate

    click.echo(migrate.current(_settings().database_url) or "(empty)")
