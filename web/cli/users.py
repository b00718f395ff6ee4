"""``engagement users``: accounts, their roles and organizers' scopes."""

from __future__ import annotations

from typing import Any

import click

from web.cli import _core, main, utf8_text


@main.group()
def users() -> None:
    """Accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "organizer", "analyst", "treasurer", "member"]), default="member")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.option("--scope", "granted", multiple=True,
              help="an organizer's scope: national, department:CODE or committee:SLUG (repeatable; "
                   "an organizer created without one is national)")
def users_create(email: str, role: str, password_stdin: bool, granted: tuple[str, ...]) -> None:
    from engagement.accounts import scopes
    from engagement.accounts.service import AccountError, create_user
    from engagement.db import transaction, utcnow

    if granted and role != "organizer":
        raise click.UsageError("--scope is for --role organizer")
    password = None
    if password_stdin:
        with click.open_file("-", "rb") as stdin:
            password = utf8_text(stdin.readline(), "--password-stdin: standard input").rstrip("\r\n")
    core = _core()
    try:
        with transaction(core.sessions) as session:
            user = create_user(session, email, role=role, password=password)
            user_id = user.id
            for spec in granted or (("national",) if role == "organizer" else ()):
                scopes.grant(session, user, spec, actor=None, now=utcnow())
    except (AccountError, scopes.ScopeError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {user_id} created with role {role}", err=True)


@users.command("grant")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "organizer", "analyst", "treasurer", "member"]), default=None,
              help="the new role (default: unchanged)")
@click.option("--personal-data/--no-personal-data", default=None,
              help="whether an analyst sees names, emails and answers (default: unchanged)")
def users_grant(email: str, role: str | None, personal_data: bool | None) -> None:
    """Change an account's role or personal-data permission (logged, as by the command line)."""
    from engagement.accounts.roles import RoleError, grant
    from engagement.db import transaction, utcnow

    if role is None and personal_data is None:
        raise click.UsageError("give --role, --personal-data or --no-personal-data")
    core = _core()
    try:
        with transaction(core.sessions) as session:
            user = _account(session, email)
            before, user_id = (user.role, user.can_see_personal_data), user.id
            change = grant(session, user, role=role, personal_data=personal_data, actor=None, now=utcnow())
            after = (user.role, user.can_see_personal_data)
    except RoleError as exc:
        raise click.ClickException(str(exc)) from None
    if change is None:
        click.echo(f"user {user_id} unchanged: {_grant_label(*after)}", err=True)
    else:
        click.echo(f"user {user_id}: {_grant_label(*before)} -> {_grant_label(*after)}", err=True)


def _account(session: Any, email: str) -> Any:
    """The account with this email, or the command stops with a message."""
    from engagement.accounts.service import find_by_email

    user = find_by_email(session, email)
    if user is None:
        raise click.ClickException("no account with this email")
    return user


def _grant_label(role: str, personal_data: bool) -> str:
    return f"{role} (personal data)" if personal_data else role


@users.command("scope")
@click.argument("email")
@click.option("--grant", "granted", multiple=True, help="national, department:CODE or committee:SLUG")
@click.option("--revoke", "revoked", multiple=True, help="a scope to take back")
@click.option("--list", "listing", is_flag=True, help="print the account's scopes")
def users_scope(email: str, granted: tuple[str, ...], revoked: tuple[str, ...], listing: bool) -> None:
    """Grant or revoke an organizer's scopes (logged, as by the command line), or list them."""
    from engagement.accounts import scopes
    from engagement.db import transaction, utcnow

    if not (granted or revoked or listing):
        raise click.UsageError("give --grant, --revoke or --list")
    core = _core()
    try:
        with transaction(core.sessions) as session:
            user = _account(session, email)
            for spec in revoked:
                done = scopes.revoke(session, user, spec, actor=None, now=utcnow())
                click.echo(f"{'revoked' if done else 'not held'}: {spec}", err=True)
            for spec in granted:
                done = scopes.grant(session, user, spec, actor=None, now=utcnow())
                click.echo(f"{'granted' if done else 'already held'}: {spec}", err=True)
            held = [row.scope for row in scopes.scopes_of(session, user)]
    except scopes.ScopeError as exc:
        raise click.ClickException(str(exc)) from None
    if listing:
        click.echo("\n".join(held) if held else "(no scope)")
