"""``engagement serve``, ``worker`` and ``beat``: the processes of a deployment."""

from __future__ import annotations

import os
import sys

import click

from web.cli import _require_migrated, _settings, main


def served_url(host: str, port: int) -> str:
    """The URL of ``engagement serve --host HOST --port PORT`` (an IPv6 address in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@click.option("--workers", default=2, type=int, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web app with gunicorn (``gunicorn web.wsgi:app``); links in mail use SITE_URL, or when it is
    unset http://HOST:PORT (production refuses to start without SITE_URL)."""
    from web.serving import gunicorn_command

    instance_dir = _settings().instance_dir
    _require_migrated(_settings().database_url)  # one line here, rather than a traceback in each worker's log
    if not (os.environ.get("SITE_URL", "").strip() or os.environ.get("SITE_URL_FILE")):  # gunicorn inherits it
        os.environ["SITE_URL"] = served_url(host, port)
    args = gunicorn_command(host, port, workers, instance_dir)  # with a control socket of its own
    click.echo(f"Serving on {served_url(host, port)} (links in mail: {_settings().site_url})", err=True)
    os.execv(sys.executable, args)  # noqa: S606 - replaces this process with gunicorn  # nosec B606


@main.command()
@click.option("--queues", default=None,
              help="comma-separated: transactional, campaigns, lists, search (default: all four)")
@click.option("--name", default=None, help="the node name, NAME@HOST (%h: this host); default: from the queues "
                                           "(search@HOST, all@HOST), numbered when this host runs one already")
def worker(queues: str | None, name: str | None) -> None:
    """A Celery worker (``celery -A workers.app worker``) whose node name no other worker of this host has."""
    from workers import nodes

    _settings()  # a clear one-line refusal rather than Celery's traceback
    try:
        served = nodes.parse_queues(queues)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--queues") from None
    try:
        node, claim = nodes.claim_for(served, name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--name") from None
    args = [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "--loglevel", "INFO", "--hostname", node]
    if queues:
        args += ["--queues", ",".join(served)]
    claim.keep_across_exec()  # the worker holds its name for its whole life
    try:
        os.execv(sys.executable, args)  # noqa: S606 - a fixed program, arguments as a list  # nosec B606
    finally:
        claim.release()  # only when the exec failed


@main.command()
def beat() -> None:
    """The Celery beat scheduler (one per deployment): event reminders every 5 minutes, scheduled
    campaigns every minute, the retention purge every day at 03:30 UTC."""
    _settings()
    os.execv(sys.executable, [sys.executable, "-m", "celery", "-A", "workers.app", "beat",  # noqa: S606  # nosec B606
                              "--loglevel", "INFO"])
