"""``engagement events``: event reminders."""

from __future__ import annotations

import click

from web.cli import _core, main


@main.group()
def events() -> None:
    """Events."""


@events.command("remind")
def events_remind() -> None:
    """Send the due 24-hour reminders now (without Celery: run it from cron every few minutes)."""
    from engagement.db import utcnow
    from engagement.events.registration import remind_all

    click.echo(f"{remind_all(_core().sessions, utcnow())} reminder(s) sent", err=True)
