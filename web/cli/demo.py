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
    with a public password (engagement/demo_organizers.py) to try the scopes, and a treasurer with demo donations
    (engagement/demo_donations.py)."""
    from engagement import demo_donations, demo_organizers
    from engagement.core import beneficiary
    from engagement.db import transaction, utcnow
    from engagement.demo import load

    core = _core()
    summary = load(core.sessions, core.settings.workflows_dir, members=members)
    if not core.settings.is_production:
        with transaction(core.sessions) as session:
            summary += demo_organizers.load(session, utcnow())
            if core.settings.donations is not None:  # a treasurer and donations to see (the demo association)
                summary += demo_donations.load(session, utcnow(), beneficiary(core.settings))
    for line in summary:
        click.echo(line, err=True)
