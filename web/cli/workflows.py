"""``engagement workflows`` (check, list, show, load workflow files) and ``engagement stats`` (their figures)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from web.cli import _core, _emit, _settings, main


@main.group()
def workflows() -> None:
    """Check, list, show and load workflow files."""


def _paths(paths: tuple[str, ...]) -> list[Path]:
    from engagement.workflow.definitions import workflow_files

    if not paths:
        return workflow_files(_settings().workflows_dir)
    result: list[Path] = []
    for raw in paths:
        path = Path(raw)
        result.extend(workflow_files(path) if path.is_dir() else [path])
    return result


@workflows.command("check")
@click.argument("paths", nargs=-1)
def workflows_check(paths: tuple[str, ...]) -> None:
    """Exit 0 when every file is valid; one ``path:line:column: error: message`` a problem."""
    from engagement.core import register_builtins
    from engagement.workflow.checker import check_files

    register_builtins()
    files = _paths(paths)
    _valid, diagnostics = check_files(files)
    for diagnostic in diagnostics:
        click.echo(str(diagnostic))
    click.echo(f"{len(files)} file(s) checked, {len(diagnostics)} error(s)", err=True)
    sys.exit(1 if diagnostics or not files else 0)


@workflows.command("load")
@click.argument("paths", nargs=-1, required=True)
def workflows_load(paths: tuple[str, ...]) -> None:
    """Validate files and activate them (a changed file needs a new version)."""
    from engagement.db import transaction
    from engagement.workflow.definitions import load_files

    core = _core()
    with transaction(core.sessions) as session:
        published, diagnostics = load_files(session, _paths(paths))
    for diagnostic in diagnostics:
        click.echo(str(diagnostic))
    for item in published:
        state = "published" if item.changed else "unchanged"
        click.echo(f"{item.workflow_id} version {item.version}: {state}", err=True)
    sys.exit(1 if diagnostics else 0)


@workflows.command("list")
@click.option("--json", "as_json", is_flag=True)
def workflows_list(as_json: bool) -> None:
    from engagement.workflow.definitions import listing

    core = _core()
    with core.sessions() as session:
        rows = [{"id": d.workflow_id, "version": d.version, "active": d.is_active, "file": d.source_name,
                 "checksum": d.checksum, "created_at": d.created_at.isoformat()} for d in listing(session)]
    if as_json:
        _emit(rows)
        return
    for row in rows:
        click.echo(f"{row['id']:<24} v{row['version']:<4} {'active' if row['active'] else '':<7} {row['file']}")


@workflows.command("alert-stuck")
def workflows_alert_stuck() -> None:
    """Mail the organizers the instances newly stuck past their state's sla (without Celery: cron, hourly)."""
    from engagement.db import utcnow
    from engagement.workflow.sla import alert_all

    click.echo(f"{alert_all(_core().sessions, utcnow())} stuck instance(s) reported", err=True)


@workflows.command("show")
@click.argument("workflow_id")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "json"]), default="mermaid")
def workflows_show(workflow_id: str, fmt: str) -> None:
    from engagement.workflow import definitions, diagram

    core = _core()
    with core.sessions() as session:
        flow = definitions.active(session, workflow_id)
    if flow is None:
        raise click.ClickException(f"no active workflow {workflow_id!r}")
    if fmt == "json":
        _emit(diagram.as_json(flow.spec))
    else:
        click.echo(diagram.mermaid(flow.spec), nl=False)


DAY = click.DateTime(formats=["%Y-%m-%d"])


@main.command()
@click.argument("workflow_id")
@click.option("--json", "as_json", is_flag=True)
@click.option("--since", type=DAY, default=None, help="instances started on or after this day (UTC)")
@click.option("--until", type=DAY, default=None, help="instances started before this day (UTC)")
@click.option("--version", type=int, default=None, help="one version only")
@click.option("--source", type=click.Choice(["invitation", "direct"]), default=None,
              help="invitation: opened through an invitation's join link")
@click.option("--fresh", is_flag=True, help="refresh the rollup and compute now instead of reading figures "
                                            "stored less than a minute ago")
@click.option("--rebuild", is_flag=True, help="rebuild the whole rollup from the log first (after a restore)")
def stats(workflow_id: str, as_json: bool, since: datetime | None, until: datetime | None, version: int | None,
          source: str | None, fresh: bool, rebuild: bool) -> None:
    """Per-state counts, funnel, time in state and stuck instances of a workflow (the dashboard's figures)."""
    from engagement.db import utcnow
    from engagement.workflow import snapshots
    from engagement.workflow.stats import Filters, count_instances

    filters = Filters(version=version, since=since.replace(tzinfo=UTC) if since else None,
                      until=until.replace(tzinfo=UTC) if until else None, source=source)
    figures = None if fresh or rebuild else _stored_figures(workflow_id, filters)
    if figures is None:
        from engagement.workflow import rollup
        from engagement.workflow.analytics import instance_conditions

        core = _core()
        if rebuild:
            rollup.refresh(core.sessions, utcnow(), full=True)
        figures = snapshots.figures(core.sessions, workflow_id, filters, now=utcnow(), fresh=fresh or rebuild)
        if figures is None:  # no published definition: the instances alone
            with core.sessions() as session:
                figures = count_instances(session, workflow_id, instance_conditions(workflow_id, filters)).as_dict()
    if as_json:
        _emit(figures)
        return
    click.echo(f"{workflow_id}: {figures['started']} started, {figures['completed']} completed "
               f"({figures['completion_rate']:.1%}), {figures['abandoned']} abandoned, "
               f"{figures['in_progress']} in progress")
    if "funnel" in figures:
        _print_analysis(figures)
    else:
        for state, count in sorted(figures["by_state"].items(), key=lambda kv: -kv[1]):
            click.echo(f"  {state:<24} {count}")


def _stored_figures(workflow_id: str, filters: Any) -> dict[str, Any] | None:
    """Figures stored less than a minute ago, read without building the core (no mail, no definitions,
    no numpy): the common case of ``engagement stats`` answers in the time of one query."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from engagement.db import make_engine, make_session_factory, utcnow
    from engagement.tables import import_models
    from engagement.workflow import snapshots

    import_models()
    engine = make_engine(_settings().database_url)
    try:
        return snapshots.recent(make_session_factory(engine), workflow_id, filters, utcnow())
    except (OperationalError, ProgrammingError):  # a table missing: the core's opening says why (_require_schema)
        return None
    finally:
        engine.dispose()


def _print_analysis(figures: dict[str, Any]) -> None:
    """The funnel with time in state and stuck counts, one state a line; then the stuck and the days."""
    timings = {t["state"]: t for t in figures["time_in_state"]}
    stuck = {s["state"]: s["count"] for s in figures["stuck"]}
    click.echo(f"  {'state':<24} {'live':>7} {'reached':>8} {'left':>8} {'dropped':>8} {'drop %':>7} "
               f"{'p50 s':>9} {'p90 s':>9} {'p99 s':>9} {'stuck':>6}")
    for step in figures["funnel"]:
        t = timings.get(step["state"], {})
        seconds = [f"{t[key] / 1000:.1f}" if t.get(key) is not None else "-" for key in ("p50_ms", "p90_ms", "p99_ms")]
        click.echo(f"  {step['state']:<24} {figures['by_state'].get(step['state'], 0):>7} {step['reached']:>8} "
                   f"{step['left']:>8} {step['dropped']:>8} {step['drop_rate']:>7.1%} {seconds[0]:>9} "
                   f"{seconds[1]:>9} {seconds[2]:>9} {stuck.get(step['state'], '-'):>6}")
    for row in figures["oldest_stuck"]:
        since = row["entered_at"][:16].replace("T", " ")
        click.echo(f"  stuck: instance {row['id']} in {row['state']} since {since} UTC")
    sources, invitations = figures["by_source"], figures["invitations"]
    click.echo(f"  sources: invitation {sources['invitation']}, direct {sources['direct']}; "
               f"invitations sent {invitations['sent']}, joined {invitations['joined']}")
    for row in figures["per_day"][-14:]:
        click.echo(f"  {row['day']}  started {row['started']:>7}  completed {row['completed']:>7}")
    click.echo(f"  figures as of {figures['now'][:19].replace('T', ' ')} UTC")
