"""``engagement search``: the search indexes."""

from __future__ import annotations

import sys

import click

from web.cli import _core, main


@main.group()
def search() -> None:
    """The search index (local full-text index, and Algolia when ALGOLIA_APP_ID is set)."""


@search.command("reindex")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(min=1, max=10_000),
              help="records read and written at a time")
def search_reindex(batch: int) -> None:
    """Rebuild the search indexes from the database (committees, events, pages), with a progress bar."""
    from engagement.search import service

    core = _core()
    length = service.total(core.sessions) * len(service.engines(core.sessions))
    with click.progressbar(length=length, label="indexing", file=sys.stderr) as bar:
        written = service.reindex(core.sessions, batch=batch, progress=bar.update)
    for engine, count in written.items():
        click.echo(f"{engine}: {count} record(s) indexed", err=True)
