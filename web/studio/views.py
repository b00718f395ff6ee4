"""The studio's pages about published workflows: the list, one workflow, its diagram, unpublishing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from engagement import homepage
from engagement.db import transaction, utcnow
from engagement.workflow import definitions, migration
from engagement.workflow.definitions import DefinitionError
from engagement.workflow.diagram import mermaid
from engagement.workflow.models import WorkflowDefinition, WorkflowInstance
from engagement.workflow.spec import DEFAULT_TRIGGERS, FIELD_TYPES, WorkflowSpec
from web.auth.roles import role_required
from web.db import db, sessions
from web.headers import csp
from web.locale import current_locale
from web.responses import NO_STORE

bp = Blueprint("studio", __name__, url_prefix="/organizer/workflows")


@dataclass(frozen=True)
class Version:
    row: WorkflowDefinition
    live: int  # instances neither completed nor abandoned
    total: int


@dataclass(frozen=True)
class Workflow:
    id: str
    versions: list[Version]  # newest first

    @property
    def active(self) -> Version | None:
        return next((v for v in self.versions if v.row.is_active), None)

    @property
    def others(self) -> list[Version]:
        return [v for v in self.versions if not v.row.is_active]


def workflows(workflow_id: str | None = None) -> list[Workflow]:
    """Every stored workflow (or one) with its versions and their instance counts."""
    query = select(WorkflowDefinition).order_by(WorkflowDefinition.workflow_id, WorkflowDefinition.version.desc())
    if workflow_id is not None:
        query = query.where(WorkflowDefinition.workflow_id == workflow_id)
    totals = _counts(workflow_id, live=False)
    live = _counts(workflow_id, live=True)
    grouped: dict[str, list[Version]] = defaultdict(list)
    for row in db().scalars(query):
        key = (row.workflow_id, row.version)
        grouped[row.workflow_id].append(Version(row, live.get(key, 0), totals.get(key, 0)))
    return [Workflow(name, versions) for name, versions in grouped.items()]


def _counts(workflow_id: str | None, live: bool) -> dict[tuple[str, int], int]:
    query = select(WorkflowInstance.workflow_id, WorkflowInstance.version, func.count()).group_by(
        WorkflowInstance.workflow_id, WorkflowInstance.version)
    if workflow_id is not None:
        query = query.where(WorkflowInstance.workflow_id == workflow_id)
    if live:
        query = query.where(WorkflowInstance.is_completed.is_(False), WorkflowInstance.abandoned_at.is_(None))
    return {(name, version): count for name, version, count in db().execute(query)}


@bp.get("/")
@role_required("organizer")
def index() -> Any:
    return render_template("studio/index.html", workflows=workflows()), 200, NO_STORE


@bp.get("/help")
@role_required("organizer")
def help_page() -> Any:
    """How to write a workflow, in the page's language (the editor links here)."""
    return render_template("studio/help.html", field_types=[t for t in FIELD_TYPES if t != "hidden"],
                           default_triggers=DEFAULT_TRIGGERS), 200, NO_STORE


def _one(workflow_id: str) -> Workflow:
    found = workflows(workflow_id)
    if not found:
        abort(404)
    return found[0]


def _spec(workflow: Workflow, version: int | None) -> tuple[Version, WorkflowSpec | None]:
    """The asked version (default: the active one, else the newest) and its spec if it still checks."""
    chosen = next((v for v in workflow.versions if v.row.version == version), None) if version else None
    chosen = chosen or workflow.active or workflow.versions[0]
    try:
        return chosen, definitions.spec_of(chosen.row)
    except DefinitionError:
        return chosen, None


@bp.get("/<workflow_id>")
@csp(style_src="'self' 'unsafe-inline'")  # Mermaid styles the SVG it draws with a <style> element and attributes
@role_required("organizer")
def show(workflow_id: str) -> Any:
    workflow = _one(workflow_id)
    shown, spec = _spec(workflow, request.args.get("version", type=int))
    diagram = mermaid(spec, current_locale()) if spec is not None else None
    live = migration.live_counts(db(), workflow_id)
    _active, home_spec = _spec(workflow, workflow.active.row.version) if workflow.active else (None, None)
    return render_template("studio/show.html", workflow=workflow, shown=shown, spec=spec, diagram=diagram,
                           live=sorted(live.items()), home_spec=home_spec,
                           on_home=homepage.is_shown(db(), workflow_id), can_show=homepage.can_show), 200, NO_STORE


@bp.post("/<workflow_id>/home")
@role_required("organizer")
def home(workflow_id: str) -> Any:
    """Put the workflow on the home page, or take it off (``show=y`` or absent): a card with its title
    and description, while a version of it is published."""
    _one(workflow_id)
    on = request.form.get("show") == "y"
    with transaction(sessions()) as session:
        changed = homepage.place(session, workflow_id, on=on, by=current_user.email, now=utcnow())
    if changed:
        flash(_("The home page now shows this workflow.") if on else _("The home page no longer shows this workflow."))
    return redirect(url_for("studio.show", workflow_id=workflow_id) + "#home", code=303)


@bp.get("/<workflow_id>/diagram.mmd")
@role_required("organizer")
def diagram(workflow_id: str) -> Any:
    shown, spec = _spec(_one(workflow_id), request.args.get("version", type=int))
    if spec is None:
        abort(404)
    filename = f"{workflow_id}-v{shown.row.version}.mmd"
    return Response(mermaid(spec, current_locale()), mimetype="text/plain", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@bp.post("/<workflow_id>/unpublish")
@role_required("organizer")
def unpublish(workflow_id: str) -> Any:
    _one(workflow_id)
    try:
        with transaction(sessions()) as session:
            current = definitions.active_version(session, workflow_id)
            previous = definitions.unpublish(session, workflow_id)
    except DefinitionError:
        flash(_("This workflow has no published version."))
        return redirect(url_for("studio.show", workflow_id=workflow_id), code=303)
    if previous is None:
        flash(_("Version %(version)s is unpublished: the workflow is offline (its address answers 404).",
                version=current))
    else:
        flash(_("Version %(version)s is unpublished: version %(previous)s serves new visitors again.",
                version=current, previous=previous))
    return redirect(url_for("studio.show", workflow_id=workflow_id), code=303)
