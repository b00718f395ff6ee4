"""The analyst dashboard: where everyone stands in a workflow (counts only, never answers or names).

Analysts (and admins) only. The figures come from ``engagement.workflow.snapshots`` (computed at
most 10 minutes ago, the unfiltered ones refreshed by Celery beat), the same as ``engagement stats``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for

from engagement.db import utcnow
from engagement.spreadsheets import BOM
from engagement.workflow import definitions, explorer, snapshots
from engagement.workflow.analytics import Filters, published_spec
from engagement.workflow.definitions import DefinitionError
from engagement.workflow.spec import localize
from forms.analytics import SOURCE_LABELS, AnalyticsFilterForm
from web.analyst import charts, formats
from web.auth.roles import role_required
from web.db import db, sessions
from web.locale import current_locale
from web.responses import NO_STORE

bp = Blueprint("analyst", __name__, url_prefix="/analyst")
STATE_COLUMNS = ("state", "live", "reached", "left", "dropped", "drop_rate", "transitions_out", "p50_ms", "p90_ms",
                 "p99_ms", "sla_seconds", "stuck")
DAY_COLUMNS = ("day", "started", "completed")
FILTER_NAMES = ("version", "since", "until", "source")


@bp.get("/workflows/")
@role_required("analyst")
def index() -> Any:
    """The published workflows, each linking to its dashboard."""
    active = [d for d in definitions.listing(db()) if d.is_active]
    return render_template("analyst/index.html", workflows=active), 200, NO_STORE


@bp.get("/workflows/<workflow_id>")
@role_required("analyst")
def workflow(workflow_id: str) -> Any:
    versions = explorer.versions(db(), workflow_id)
    if not versions:
        abort(404)
    form = AnalyticsFilterForm(formdata=request.args).bind(versions)
    if not form.validate():
        return render_template("analyst/workflow.html", workflow_id=workflow_id, form=form, figures=None), 400, NO_STORE
    filters = _filters(form)
    figures = snapshots.figures(sessions(), workflow_id, filters, now=utcnow())
    if figures is None:
        abort(404)
    rows = state_rows(figures)
    fmt = request.args.get("format")
    if fmt == "json":
        return jsonify(figures), 200, NO_STORE
    if fmt == "csv":
        return _csv(workflow_id, rows, figures)
    applied = {name: request.args[name] for name in FILTER_NAMES if request.args.get(name)}
    steps = _steps(workflow_id, filters)
    shown = [{**row, "title": steps.titles.get(row["state"], row["state"])} for row in rows
             if row["state"] not in steps.automatic]
    return render_template(
        "analyst/workflow.html", workflow_id=workflow_id, title=steps.title, form=form, figures=figures, rows=shown,
        applied=applied, diagram=charts.diagram(figures, steps.titles, steps.automatic),
        funnel=charts.funnel(figures, steps.titles, steps.automatic), days=charts.days(figures),
        titles=steps.titles, sources=SOURCE_LABELS, instance_url=_instance_url(workflow_id), fmt=formats,
    ), 200, NO_STORE


@dataclass(frozen=True)
class Steps:
    """What the page names: the workflow's and its states' titles in the page's language, and the
    automatic states (no page: never a step of the funnel)."""

    title: str
    titles: dict[str, str]
    automatic: frozenset[str]


def _steps(workflow_id: str, filters: Filters) -> Steps:
    try:
        spec = published_spec(db(), workflow_id, filters.version) or published_spec(db(), workflow_id)
    except DefinitionError:  # a version that no longer checks: ids only
        spec = None
    if spec is None:
        return Steps(workflow_id, {}, frozenset())
    locale = current_locale()
    return Steps(localize(spec.title, locale) or workflow_id,
                 {name: localize(state.title, locale) or name for name, state in spec.states.items()},
                 frozenset(name for name, state in spec.states.items() if state.automatic))


def _filters(form: AnalyticsFilterForm) -> Filters:
    def day(value: Any) -> datetime | None:
        return datetime.combine(value, time(), UTC) if value else None

    return Filters(version=int(form.version.data) if form.version.data else None, since=day(form.since.data),
                   until=day(form.until.data), source=form.source.data or None)


def state_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per state in funnel order: live, funnel, time in state, sla and stuck."""
    timings = {t["state"]: t for t in figures["time_in_state"]}
    stuck = {s["state"]: s for s in figures["stuck"]}
    rows = []
    for step in figures["funnel"]:
        state = step["state"]
        t, s = timings.get(state, {}), stuck.get(state, {})
        rows.append({"state": state, "live": figures["by_state"].get(state, 0), "reached": step["reached"],
                     "left": step["left"], "dropped": step["dropped"], "drop_rate": step["drop_rate"],
                     "transitions_out": t.get("count", 0), "p50_ms": t.get("p50_ms"), "p90_ms": t.get("p90_ms"),
                     "p99_ms": t.get("p99_ms"), "sla_seconds": s.get("sla_seconds"), "stuck": s.get("count"),
                     "is_final": step["is_final"]})
    return rows


def _csv(workflow_id: str, rows: list[dict[str, Any]], figures: dict[str, Any]) -> Response:
    """``table=days``: started and completed per day; otherwise one row per state."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns: tuple[str, ...] = STATE_COLUMNS
    lines, name = rows, "states"
    if request.args.get("table") == "days":
        columns, lines, name = DAY_COLUMNS, figures["per_day"], "days"
    writer.writerow(columns)
    for line in lines:
        writer.writerow(["" if line.get(c) is None else line[c] for c in columns])
    return Response(BOM + out.getvalue(), mimetype="text/csv", headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="{workflow_id}-{name}.csv"'})


def _instance_url(workflow_id: str) -> Any:
    """Links to the instance explorer's page of an instance, when the explorer is installed."""
    if "explorer.instance" not in current_app.view_functions:
        return lambda instance_id: None
    return lambda instance_id: url_for("explorer.instance", workflow_id=workflow_id, instance_id=instance_id)

