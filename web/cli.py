"""The ``engagement`` command: the composition root for operators, organizers and analysts."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
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


@main.group()
def events() -> None:
    """Events."""


@events.command("remind")
def events_remind() -> None:
    """Send the due 24-hour reminders now (without Celery: run it from cron every few minutes)."""
    from engagement.db import utcnow
    from engagement.events.registration import remind_all

    click.echo(f"{remind_all(_core().sessions, utcnow())} reminder(s) sent", err=True)


@main.group()
def db() -> None:
    """Database migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.option("--sql", "as_sql", is_flag=True,
              help="print the SQL instead of running it, for review (the database is only read for its revision)")
@click.option("--from", "start", default=None, metavar="REV",
              help="with --sql: the revision to start from, without reading the database ('base' for an empty one)")
def db_upgrade(revision: str, as_sql: bool, start: str | None) -> None:
    from engagement import migrate

    if as_sql:
        url = _settings().database_url
        if start is None:
            start = migrate.current(url)
        from alembic.util.exc import CommandError

        try:
            click.echo(migrate.upgrade_sql(url, None if start == "base" else start, revision), nl=False)
        except CommandError as exc:  # SQLite's batch migrations reflect the live tables: no SQL to print
            raise click.ClickException(f"no SQL for review: {exc}") from None
        return
    if start is not None:
        raise click.UsageError("--from goes with --sql")
    migrate.upgrade(_settings().database_url, revision)
    click.echo(f"database at {migrate.current(_settings().database_url)}", err=True)


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    from engagement import migrate

    migrate.downgrade(_settings().database_url, revision)
    click.echo(f"database at {migrate.current(_settings().database_url)}", err=True)


@db.command("current")
def db_current() -> None:
    from engagement import migrate

    click.echo(migrate.current(_settings().database_url) or "(empty)")


@main.group()
def demo() -> None:
    """Demonstration data."""


@demo.command("load")
@click.option("--members", default=0, type=int, help="also generate N synthetic members")
def demo_load(members: int) -> None:
    """Load the demo data; running it again changes nothing. Outside production, also organizers who log in
    with a public password (engagement/demo_organizers.py) to try the scopes."""
    from engagement import demo_organizers
    from engagement.db import transaction, utcnow
    from engagement.demo import load

    core = _core()
    summary = load(core.sessions, core.settings.workflows_dir, members=members)
    if not core.settings.is_production:
        with transaction(core.sessions) as session:
            summary += demo_organizers.load(session, utcnow())
    for line in summary:
        click.echo(line, err=True)


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

    from engagement.db import import_models, make_engine, make_session_factory, utcnow
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


@main.group()
def mail() -> None:
    """Outbound mail."""


@mail.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=20, type=int)
def mail_list(as_json: bool, limit: int) -> None:
    from engagement.mail.service import recent

    core = _core()
    with core.sessions() as session:
        rows = [{"id": m.id, "to": m.to, "cc": m.cc, "reply_to": m.reply_to, "subject": m.subject,
                 "status": m.status, "created_at": m.created_at.isoformat()} for m in recent(session, limit)]
    if as_json:
        _emit(rows)
        return
    for row in rows:
        click.echo(f"#{row['id']:<6} {row['status']:<7} {', '.join(row['to']):<32} {row['subject']}")


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
    from engagement.mail.models import Campaign

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
    from engagement.mail.models import Campaign

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
    from engagement.db import transaction, utcnow
    from engagement.mail.models import Campaign

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


@main.group()
def outbox() -> None:
    """The transactional outbox."""


@outbox.command("relay")
def outbox_relay() -> None:
    """Hand every undelivered outbox row to the relay again (after a crash or an outage)."""
    from engagement.outbox import relay_pending

    core = _core()
    click.echo(f"{relay_pending(core.sessions, core.relay)} row(s) relayed", err=True)


@main.group()
def search() -> None:
    """The search index (local full-text index, and Algolia when ALGOLIA_APP_ID is set)."""


@search.command("reindex")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(min=1, max=10_000),
              help="records read and written at a time")
def search_reindex(batch: int) -> None:
    """Rebuild the search indexes from the database (committees, events, pages), with a progress bar."""
    from engagement.search import service

    core = _core()
    length = service.total(core.sessions) * len(service.engines(core.sessions))
    with click.progressbar(length=length, label="indexing", file=sys.stderr) as bar:
        written = service.reindex(core.sessions, batch=batch, progress=bar.update)
    for engine, count in written.items():
        click.echo(f"{engine}: {count} record(s) indexed", err=True)


@main.group()
def users() -> None:
    """Accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "organizer", "analyst", "member"]), default="member")
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
@click.option("--role", type=click.Choice(["admin", "organizer", "analyst", "member"]), default=None,
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


main.add_command(health)  # the probe of workers and beat (web/probes.py)

if __name__ == "__main__":
    main()
