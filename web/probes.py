"""``engagement health``: the liveness, readiness and startup probes of Celery workers and beat.

Kubernetes runs it as an exec probe: it exits 0 when the process's heartbeat file (engagement/heartbeat.py) is
fresh, 1 when it is missing or older than ``--max-age``. It only reads a file's age, so it answers in the time
Python takes to start, whatever state the broker or the database are in.
"""

from __future__ import annotations

from pathlib import Path

import click

from engagement import heartbeat
from engagement.config import ConfigError, load_settings


def _configured_file() -> Path:
    try:
        path = load_settings().heartbeat_file
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if path is None:
        raise click.ClickException("no heartbeat file: pass --heartbeat FILE or set HEARTBEAT_FILE")
    return path


@click.command()
@click.option("--heartbeat", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="the file the worker or beat touches (default: HEARTBEAT_FILE)")
@click.option("--max-age", type=click.IntRange(min=1), default=60, show_default=True, metavar="SECONDS",
              help="the oldest heartbeat still counted as alive")
def health(path: Path | None, max_age: int) -> None:
    """Exit 0 when a worker's or beat's heartbeat is at most MAX_AGE seconds old, else 1 (a probe's command)."""
    fresh, reason = heartbeat.verdict(path or _configured_file(), max_age)
    click.echo(reason, err=not fresh)
    if not fresh:
        raise SystemExit(1)
