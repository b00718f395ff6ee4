"""The ``engagement`` command: the composition root for operators, organizers and analysts.

This module holds the ``main`` group and what its commands share (settings, the core, JSON output, UTF-8
input); each command group is a module of this package that registers itself on ``main``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from engagement.config import ConfigError, load_settings
from web.interrupts import TRAP, Interrupted
from web.probes import health


def _settings():
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _core():
    from engagement.core import bootstrap
    from web.command_relay import relay_for

    settings = _settings()
    core = bootstrap(settings, relay_for(settings))
    _require_schema(core.engine)
    return core


def _require_schema(engine: Any) -> None:
    """Refuse, in one line, a command that needs the tables on a database not migrated to this version's head."""
    from engagement import migrate

    gap = migrate.missing_upgrade(engine)
    if gap is None:
        return
    if not gap.current:
        raise click.ClickException("the database is not migrated: run `engagement db upgrade` first")
    raise click.ClickException(f"the database is at revision {', '.join(gap.current)}, this version needs "
                               f"{', '.join(gap.heads)}: run `engagement db upgrade` first")


def _require_migrated(url: str) -> None:
    """`_require_schema` for a command that builds no core (``serve``, the whole app of ``under-attack``)."""
    from engagement.db import make_engine

    engine = make_engine(url)
    try:
        _require_schema(engine)
    finally:
        engine.dispose()


def _emit(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def utf8_text(data: bytes, what: str) -> str:
    """``data`` (``what``: "--body-file: the file") as text, a leading byte order mark dropped.

    Text that is not UTF-8 is one clear line naming the first bad byte (counted from 1) and exit status 1,
    never a traceback: decoded by Python's locale instead, it would fail later, elsewhere (a database, a hash)."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{what} is not valid UTF-8: byte {exc.start + 1}") from None


def read_text_input(path: str, option: str) -> str:
    """The whole of the file ``path`` given for ``option`` (``-``: standard input), as UTF-8 text (`utf8_text`)."""
    if path == "-":
        with click.open_file("-", "rb") as stdin:
            return utf8_text(stdin.read(), f"{option}: standard input")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{option}: cannot read {path} ({exc.strerror})") from None
    return utf8_text(data, f"{option}: the file")


class Commands(click.Group):
    """The ``engagement`` group, whose arguments must be UTF-8 too (`utf8_text`).

    Python decodes the bytes of a command line that are not UTF-8 as lone surrogates; encoded back as they came
    (``surrogatepass``), the first of them is where the first bad byte was."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for number, arg in enumerate(args, 1):
            utf8_text(arg.encode("utf-8", "surrogatepass"), f"argument {number}")
        return super().parse_args(ctx, args)


@click.group(cls=Commands)
def main() -> None:
    """Engagement: workflows, members and campaigns of a citizen movement."""
    TRAP.install()  # Ctrl-C and SIGTERM: one line and exit 130/143, nothing stranded (web/interrupts.py)
    click.get_current_context().call_on_close(_deliver_before_exit)


def _deliver_before_exit() -> None:
    """Every command delivers what it queued before it exits, whatever it is (web/command_relay.py); an
    interrupted one only says what it leaves pending, and exits 128 + the signal's number."""
    try:
        if TRAP.signum is None and "engagement.outbox" in sys.modules:  # else it queued nothing
            from web.command_relay import deliver_before_exit

            deliver_before_exit()
    except Interrupted:
        pass  # interrupted while delivering: what is left is said below
    try:
        if TRAP.signum is not None:
            from web.command_relay import after_interrupt

            after_interrupt(TRAP.signum)
            raise click.exceptions.Exit(TRAP.exit_code)
    finally:
        TRAP.restore()


# The command groups register themselves on `main`, which they import: hence after it.
from web.cli import (  # noqa: E402, F401
    campaigns,
    database,
    demo,
    donations,
    events,
    mail,
    outbox,
    privacy,
    search,
    serve,
    underattack,
    users,
    workflows,
)

main.add_command(health)  # the probe of workers and beat (web/probes.py)
