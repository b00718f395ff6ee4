"""``engagement outbox``: the transactional outbox."""

from __future__ import annotations

import click

from web.cli import _core, main


@main.group()
def outbox() -> None:
    """The transactional outbox."""


@outbox.command("relay")
def outbox_relay() -> None:
    """Hand every undelivered outbox row to the relay again (after a crash or an outage)."""
    from engagement.outbox import relay_pending

    core = _core()
    click.echo(f"{relay_pending(core.sessions, core.relay)} row(s) relayed", err=True)
