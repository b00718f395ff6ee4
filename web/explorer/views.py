"""The instance explorer: search a workflow's instances, read one's transition log and replay it.

Analysts (and admins) only. Unless the viewer may see personal data (an admin, or an analyst an
admin allowed), nothing shown or exported names anyone: see ``engagement.pseudonyms``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, stream_with_context
from flask_login import current_user

from engagement.clock import PARIS
from engagement.pseudonyms import NotAllowed
from engagement.spreadsheets import BOM, neutralised
from engagement.workflow import definitions, explorer, replay
from engagement.workflow.models import WorkflowInstance, WorkflowTransition
from forms.explorer import STATUS_LABELS, InstanceSearchForm
from web.access import record
from web.auth.roles import role_required
from web.db import db
from web.explorer.present import Lens, local, utc
from web.responses import NO_STORE

bp = Blueprint("explorer", __name__, url_prefix="/analyst")
PAGE = 50
FILTERS = ("id", "state", "version", "status", "started_from", "started_to")  # kept by page and export links
CSV_COLUMNS = ("instance", "workflow", "version", "state", "status", "started_at", "entered_at", "completed_at",
               "abandoned_at", "actor", "answers")


def _lens() -> Lens:
    return Lens.of(current_user, current_app.config["SECRET_KEY"])


@bp.get("/explorer")
@role_required("analyst")
def index() -> Any:
    """The workflows whose instances can be explored."""
    active = [d for d in definitions.listing(db()) if d.is_active]
    return render_template("explorer/index.html", workflows=active), 200, NO_STORE


@bp.get("/workflows/<workflow_id>/instances")
@role_required("analyst")
def instances(workflow_id: str) -> Any:
    versions = explorer.versions(db(), workflow_id)
    if not versions:
        abort(404)
    form = InstanceSearchForm(formdata=request.args).bind(versions)
    valid = form.validate()
    wanted = _wanted(workflow_id, form) if valid else None
    if request.args.get("format") == "csv":
        return _export(wanted, personal=request.args.get("personal") == "1")
    before = request.args.get("before", type=int)
    before = before if before is not None and 0 < before < 2**63 else None
    rows, next_before = explorer.page(db(), wanted, before=before, size=PAGE) if wanted else ([], None)
    lens = _lens()
    if lens.personal:  # the page names each row's person
        record("explorer", f"workflow:{workflow_id}", (r.actor_id for r in rows))
    flow = definitions.active(db(), workflow_id)
    return render_template(
        "explorer/instances.html", workflow_id=workflow_id, form=form, rows=rows, next_before=next_before,
        paged="before" in request.args, lens=lens.know(db(), (r.actor_id for r in rows)), local=local,
        status_of=explorer.status_of, statuses=STATUS_LABELS, states=sorted(flow.spec.states) if flow else [],
        filters={name: value for name in FILTERS if (value := request.args.get(name))},
    ), 200, NO_STORE


def _wanted(workflow_id: str, form: InstanceSearchForm) -> explorer.InstanceFilter:
    def day_start(day: Any) -> datetime | None:
        return datetime.combine(day, time(), PARIS) if day else None

    until = day_start(form.started_to.data)
    return explorer.InstanceFilter(
        workflow_id=workflow_id, instance_id=form.id.data, state=(form.state.data or "").strip() or None,
        version=int(form.version.data) if form.version.data else None, status=form.status.data or None,
        started_from=day_start(form.started_from.data), started_before=until + timedelta(days=1) if until else None)


def _export(wanted: explorer.InstanceFilter | None, personal: bool) -> Any:
    """The matching instances as CSV: pseudonymised unless asked for in full by a viewer allowed to."""
    if wanted is None:
        abort(400)
    try:
        lens = Lens.of(current_user, current_app.config["SECRET_KEY"], personal=personal)
    except NotAllowed:
        abort(403)
    session = db()
    if personal:
        record("explorer_csv", f"workflow:{wanted.workflow_id}", explorer.actors(session, wanted))

    def generate() -> Iterator[str]:
        yield BOM + _line(CSV_COLUMNS)
        for page in explorer.export_pages(session, wanted):
            lens.know(session, (r.actor_id for r in page))
            for row in page:
                yield _line((str(row.id), row.workflow_id, str(row.version), row.state, explorer.status_of(row),
                             utc(row.started_at), utc(row.entered_at), utc(row.completed_at), utc(row.abandoned_at),
                             lens.actor(row.actor_id), lens.answers_cell(row.data)))

    suffix = "" if personal else "-pseudonymised"
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{wanted.workflow_id}-instances{suffix}.csv"'}
    return Response(stream_with_context(generate()), mimetype="text/csv", headers=headers)


def _line(cells: tuple[str, ...]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([neutralised(cell) for cell in cells])
    return out.getvalue()


@bp.get("/workflows/<workflow_id>/instances/<int:instance_id>")
@role_required("analyst")
def instance(workflow_id: str, instance_id: int) -> Any:
    found = db().get(WorkflowInstance, instance_id)
    if found is None or found.workflow_id != workflow_id:
        abort(404)
    log = replay.log_of(db(), found.id)
    checked = replay.check(found, log, _initial(found, log))
    lens = _lens().know(db(), [found.actor_id, *(t.actor_id for t in log)])
    if lens.personal:  # the person and their answers
        people = {found.actor_id, *(t.actor_id for t in log)} - {None}
        record("explorer", f"instance:{found.id}", people, people=len(people) or 1)
    return render_template("explorer/instance.html", instance=found, log=log, replay=checked, lens=lens,
                           local=local, status=explorer.status_of(found), statuses=STATUS_LABELS), 200, NO_STORE


def _initial(instance: WorkflowInstance, log: Sequence[WorkflowTransition]) -> str | None:
    """The initial state of the version the instance started on: its first logged row's (a publish
    with ``migrate_from`` may have moved it to another version since); None when that version is gone."""
    if log and log[0].trigger == "migrate":  # moved before its first step: it stood in its old version's start
        return log[0].source
    began_on = log[0].version if log else instance.version
    try:
        return definitions.of_version(db(), instance.workflow_id, began_on).spec.initial
    except definitions.DefinitionError:
        return None
