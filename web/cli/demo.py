"""``engagement demo``: demonstration data."""

from __future__ import annotations

import click

from web.cli import _core, main


@main.group()
def demo() -> None:
    """Demonstration data."""


@demo.command("load")
@click.option("--members", default=0, type=int, help="also generate N synthetic members")
def demo_load(members: int) -> None:
    """Load the demo data; running it again changes nothing. Outside production, also organizers who log in
    with a public password (engagement/demo_organizers.py) to try the scopes."""
    from engagement import demo_organizers
    from engagement.db import transaction, utcnow
    from engagement.demo import load

    core = _core()
    summary = load(core.sessions, core.settings.workflows_dir, members=members)
    if not core.settings.is_production:
        with transaction(core.sessions) as session:
            summary += demo_organizers.load(session, utcnow())
    for line in summary:
        click.echo(line, err=True)
