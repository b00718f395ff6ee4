"""``engagement campaign``: one message to an audience, sent in the background."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from web.cli import _core, _emit, main, read_text_input


@main.group()
def campaign() -> None:
    """Campaigns: one message to an audience, sent in the background."""


@campaign.command("send")
@click.option("--audience", required=True, help="all, committee:SLUG, department:CODE or event:SLUG")
@click.option("--subject", required=True)
@click.option("--body-file", required=True, type=click.Path(exists=True, dir_okay=False, allow_dash=True),
              help="plain text in UTF-8; - for stdin")
@click.option("--from-name", default=None, help="shown before the platform's address")
@click.option("--wait", is_flag=True, help="return once every message has a final status")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="with --wait: give up after this long (exit status 1; the campaign goes on)")
def campaign_send(audience: str, subject: str, body_file: str, from_name: str | None, wait: bool,
                  timeout: float | None) -> None:
    """Queue a campaign; prints {"campaign": ID, "recipients": N}."""
    from engagement.campaigns import service
    from engagement.db import transaction

    body = read_text_input(body_file, "--body-file")
    core = _core()
    try:
        with transaction(core.sessions) as session:
            queued = service.create(session, audience=audience, subject=subject, body=body, author=None,
                                    sender_name=from_name)
            campaign_id, count = queued.id, queued.recipients
    except service.CampaignError as exc:
        raise click.ClickException(f"{exc.field}: {exc}") from None
    click.echo(json.dumps({"campaign": campaign_id, "recipients": count}))
    if wait:
        figures = _wait_for(core, campaign_id, timeout)
        counts = ", ".join(f"{n} {status}" for status, n in figures["statuses"].items() if n)
        click.echo(f"campaign {campaign_id}: {counts or 'no recipient'}", err=True)


def _wait_for(core: Any, campaign_id: int, timeout: float | None) -> dict[str, Any]:
    import time

    from engagement.campaigns import service
    from engagement.campaigns.models import Campaign

    shown = -1
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with core.sessions() as session:
            found = session.get(Campaign, campaign_id)
            if found is None:
                raise click.ClickException(f"campaign {campaign_id} is gone")
            figures = service.progress(session, found)
        if figures["finished"]:
            return figures
        if sys.stderr.isatty() and figures["percent"] != shown:
            shown = figures["percent"]
            click.echo(f"\r{shown:3d}% ({figures['final']}/{figures['recipients']})", err=True, nl=False)
        if deadline is not None and time.monotonic() >= deadline:
            raise click.ClickException(
                f"campaign {campaign_id}: {figures['final']}/{figures['recipients']} final after {timeout:g} s; "
                "it goes on in the background (is a mail worker running?)")
        time.sleep(0.5)


@campaign.command("show")
@click.argument("campaign_id", type=int)
def campaign_show(campaign_id: int) -> None:
    """A campaign's progress as JSON: counts by status and by the provider's last event."""
    from engagement.campaigns import service
    from engagement.campaigns.models import Campaign

    core = _core()
    with core.sessions() as session:
        found = session.get(Campaign, campaign_id)
        if found is None:
            raise click.ClickException(f"no campaign {campaign_id}")
        _emit(service.progress(session, found))


@campaign.command("cancel")
@click.argument("campaign_id", type=int)
def campaign_cancel(campaign_id: int) -> None:
    """Stop a campaign: the messages not yet handed to the provider never leave."""
    from engagement.campaigns import service
    from engagement.campaigns.models import Campaign
    from engagement.db import transaction, utcnow

    core = _core()
    with transaction(core.sessions) as session:
        found = session.get(Campaign, campaign_id, with_for_update=True)
        if found is None:
            raise click.ClickException(f"no campaign {campaign_id}")
        stopped = service.cancel(session, found, utcnow())
    click.echo(f"campaign {campaign_id} cancelled; {stopped} message(s) stopped", err=True)


@campaign.command("start-due")
def campaign_start_due() -> None:
    """Queue the scheduled campaigns whose time has come (without Celery: run it from cron every minute)."""
    from engagement.campaigns.drafts import start_due
    from engagement.db import utcnow

    click.echo(f"{start_due(_core().sessions, utcnow())} scheduled campaign(s) started", err=True)
