"""``engagement privacy``: people's requests about their data, and retention."""

from __future__ import annotations

import json

import click

from web.cli import _core, _emit, main


@main.group()
def privacy() -> None:
    """People's requests about their data (export, erasure) and retention (docs/privacy.md)."""


@privacy.command("export")
@click.argument("email")
def privacy_export(email: str) -> None:
    """Print everything held about EMAIL as JSON (a request received by post), with or without an account:
    without one, what the address left (event places, invitations, forms, mails). The export is logged as
    the command line's access to their data (an address without an account by its keyed hash)."""
    from engagement.accounts.service import find_by_email
    from engagement.db import transaction, utcnow
    from engagement.privacy import access, export
    from engagement.privacy.hashing import keyed
    from engagement.privacy.traces import valid_address

    address = valid_address(email)
    if address is None:
        raise click.ClickException(f"{email.strip()!r} is not an e-mail address: nothing was exported")
    core, now = _core(), utcnow()
    with transaction(core.sessions) as session:
        user = find_by_email(session, address)
        data = export.collect(session, user, now) if user is not None else export.collect_address(session, address, now)
        if data is not None:
            target = f"user:{user.id}" if user is not None else f"address:{keyed(address)}"
            access.log(session, None, "export", target, [user.id] if user is not None else [], now, people=1)
    if data is None:
        raise click.ClickException(f"nothing is held about {address!r} (no account, no data; or already erased)")
    if user is None:
        click.echo("No account with this address: what it left without one follows.", err=True)
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


ERASED_LINES = (  # what ``privacy erase`` prints, in this order: (Erased's field, what it counts)
    ("account", "account"), ("places_released", "places at events to come given up (to the waitlist, if any)"),
    ("registrations", "event registrations pseudonymised"), ("invitations_sent", "invitations sent, pseudonymised"),
    ("invitations_received", "invitations received, pseudonymised"), ("instances", "workflow instances scrubbed"),
    ("mentions", "other people's workflow instances naming them, scrubbed"),
    ("consents", "consent records deleted"), ("mails", "mails scrubbed in the ledger"),
    ("mails_cancelled", "queued mails cancelled"), ("outbox", "outbox rows deleted"),
    ("sessions", "sessions deleted"), ("media", "images deleted"),
    ("audience_lists", "audience lists rebuilt without them"),
)


@privacy.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def privacy_erase(email: str, yes: bool) -> None:
    """Erase everything held about EMAIL (GDPR art. 17), with or without an account: what names them goes,
    what the figures count is kept without them, and the address stays only as a keyed hash on the
    suppression list (no campaign, no invitation reaches it again)."""
    from engagement.accounts.service import find_by_email
    from engagement.db import settle_deletions, transaction, utcnow
    from engagement.privacy import erasure
    from engagement.privacy.traces import valid_address

    address = valid_address(email)
    if address is None:
        raise click.ClickException(f"{email.strip()!r} is not an e-mail address: nothing was erased")
    core = _core()
    if not yes:
        with core.sessions() as session:
            user = find_by_email(session, address)
            click.echo(f"An account: {user.first_name} {user.last_name} ({user.role}), created "
                       f"{user.created_at:%Y-%m-%d}." if user is not None else
                       "No account with this address: what it left elsewhere (event places, invitations, forms, "
                       "mails) will be erased.")
        click.confirm("Erase everything held about this address? This cannot be undone", abort=True)
    with transaction(core.sessions) as session:
        erased = erasure.erase_email(session, address, utcnow())
    settle_deletions(core.engine)
    if erased is None:
        raise click.ClickException("no account or data found for this address (unknown, or already erased)")
    counts = erased.as_dict()
    for name, label in ERASED_LINES:
        if counts[name]:
            click.echo(f"{counts[name]:>6}  {label}")
    if erased.address_forgotten:
        click.echo("The address is kept only as a keyed hash on the suppression list.")


PURGE_LINES = (  # what ``privacy purge`` prints, in this order: (category, the rows, what was done to them)
    ("anonymous_instances", "instances without an account", "scrubbed (their answers removed)"),
    ("invitation_friends", "invited friends", "reduced to a keyed hash of their address"),
    ("invitation_mails", "invitation mails", "emptied in the ledger"),
    ("event_guests", "guests' places at events long over", "pseudonymised"),
    ("mail_ledger", "old messages of the mail ledger", "emptied"),
    ("unactivated", "sign-ups never activated", "erased"),
    ("inactive_erased", "inactive members warned long enough ago", "erased"),
    ("inactive_warned", "inactive members", "warned by mail"),
)


@privacy.command("purge")
@click.option("--dry-run", is_flag=True, help="count what would be purged, change nothing and send nothing")
@click.option("--json", "as_json", is_flag=True)
def privacy_purge(dry_run: bool, as_json: bool) -> None:
    """Apply the retention policy now (RETENTION_* settings, docs/privacy.md); the beat does it daily (without
    Celery: run it from cron once a day). Staff accounts are never erased: inactive ones are only counted."""
    from engagement.db import utcnow
    from engagement.privacy import retention

    core = _core()
    policy = core.settings.retention
    counts = retention.purge(core.sessions, policy, utcnow(), dry_run=dry_run, locale=core.settings.default_locale)
    if as_json:
        _emit({"dry_run": dry_run, "counts": counts})
        return
    for name, rows, done in PURGE_LINES:
        click.echo(f"{counts[name]:>6}  {rows} {'would be ' if dry_run else ''}{done}")
    click.echo(f"{counts['inactive_staff']:>6}  staff accounts not seen for {policy.inactive_member_days} days "
               "(never erased automatically: review them)")
    if dry_run:
        click.echo("Dry run: nothing was changed.", err=True)
