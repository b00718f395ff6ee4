"""``engagement under-attack``: the switch that closes the forms and serves public pages from the cache."""

from __future__ import annotations

import click

from web.cli import _core, _emit, _require_migrated, _settings, main


@main.command("under-attack")
@click.argument("action", type=click.Choice(["on", "off", "status"]))
@click.option("--json", "as_json", is_flag=True)
@click.option("--no-warm", is_flag=True, help="do not render the public pages into the cache when turning it on")
def under_attack(action: str, as_json: bool, no_warm: bool) -> None:
    """The "under attack" switch: forms closed, public pages from the cache, on every pod within seconds."""
    from engagement import switches
    from engagement.db import transaction, utcnow
    from web.underattack import POLL_SECONDS

    settings = _settings()
    if action == "status":
        core = _core()
        changed, warmed = False, None
    else:
        from web.app import LOCALES, create_app
        from web.underattack import warm

        _require_migrated(settings.database_url)
        app = create_app(settings)
        core = app.extensions["engagement"]
        with transaction(core.sessions) as session:
            changed = switches.turn(session, switches.UNDER_ATTACK, on=action == "on", by="cli", now=utcnow())
        # The cache this process fills is the pods' only when it is shared (Redis); else they fill their own.
        warmed = warm(app, LOCALES) if action == "on" and settings.redis_url and not no_warm else None
    with core.sessions() as session:
        state = switches.state(session, switches.UNDER_ATTACK)
    result = {"under_attack": state.is_on, "changed": changed, "changed_at": state.changed_at,
              "changed_by": state.changed_by, "pages_cached": warmed}
    if as_json:
        _emit(result)
        return
    news = "" if action == "status" else f" (every pod within {POLL_SECONDS:.0f} s)" if changed else " (unchanged)"
    click.echo(f"under attack: {'on' if state.is_on else 'off'}{news}"
               + (f"; {warmed} page(s) cached" if warmed is not None else ""))
