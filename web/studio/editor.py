"""Writing a workflow in the browser (or uploading it), checking it, and publishing it as a new version."""

from __future__ import annotations

import dataclasses
import posixpath
from collections import defaultdict
from pathlib import Path
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from engagement import homepage
from engagement.db import transaction, utcnow
from engagement.workflow import definitions, migration
from engagement.workflow.checker import check_text
from engagement.workflow.definitions import DefinitionError
from engagement.workflow.loader import MAX_BYTES, Diagnostic
from engagement.workflow.models import WorkflowDefinition
from engagement.workflow.spec import WorkflowSpec
from web.auth.roles import role_required
from web.db import db, sessions
from web.studio.views import NO_STORE, bp

DEFAULT_NAME = "workflow.yml"
STARTER = Path(__file__).with_name("starter.yml")  # a small valid file, commented in French, for a new workflow


class Refused(Exception):
    """Publishing stopped inside the transaction (rolled back); ``diagnostic`` says where and why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def file_name(raw: str | None) -> str:
    """A display name for diagnostics: the upload's base name, never a path."""
    name = posixpath.basename((raw or "").replace("\\", "/")).strip()[:100]
    return name or DEFAULT_NAME


def posted() -> tuple[str, str, list[Diagnostic]]:
    """(text, file name, problems reading an upload): an uploaded file wins over the text area.

    An upload that cannot be read leaves the text area's text as it was, so nothing typed is lost.
    """
    typed = request.form.get("source", "").replace("\r\n", "\n")
    name = file_name(request.form.get("filename"))
    upload = request.files.get("upload")
    if upload is None or not upload.filename:
        return typed, name, []
    name = file_name(upload.filename)
    raw = upload.stream.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        return typed, name, [Diagnostic(name, 1, 1, _("file is larger than %(kib)s KiB", kib=MAX_BYTES // 1024))]
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n"), name, []
    except UnicodeDecodeError:
        return typed, name, [Diagnostic(name, 1, 1, _("the file is not UTF-8 text"))]


def translated(diagnostic: Diagnostic) -> Diagnostic:
    """The diagnostic in the page's language: the checker writes English and keeps its template."""
    return dataclasses.replace(diagnostic, message=diagnostic.text(_))


def editor_page(text: str, name: str, diagnostics: list[Diagnostic], spec: WorkflowSpec | None = None,
                status: int = 200, notes: list[Diagnostic] | None = None) -> Any:
    """The editor with the source numbered and every diagnostic next to its line."""
    lines = text.split("\n")
    found = [translated(d) for d in (*diagnostics, *(notes or []))]
    by_line: dict[int, list[tuple[int, Diagnostic]]] = defaultdict(list)
    for index, diagnostic in enumerate(found):
        by_line[min(max(diagnostic.line, 1), len(lines))].append((index, diagnostic))
    body = render_template("studio/editor.html", text=text, name=name, lines=lines, diagnostics=found,
                           errors=diagnostics, by_line=by_line, spec=spec)
    return body, status, NO_STORE


@bp.get("/editor")
@role_required("organizer")
def editor() -> Any:
    """The commented starter example, or a stored version's source (``?workflow=ID&version=N``)."""
    workflow_id, version = request.args.get("workflow"), request.args.get("version", type=int)
    if not workflow_id:
        return editor_page(STARTER.read_text(encoding="utf-8"), DEFAULT_NAME, [])
    query = select(WorkflowDefinition).where(WorkflowDefinition.workflow_id == workflow_id)
    query = query.where(WorkflowDefinition.version == version) if version else query.order_by(
        WorkflowDefinition.is_active.desc(), WorkflowDefinition.version.desc())
    row = db().scalars(query.limit(1)).first()
    if row is None:
        abort(404)
    return editor_page(row.source, f"{workflow_id}.yml", [])


@bp.post("/editor")
@role_required("organizer")
def check() -> Any:
    """Check (``action=check``) or publish (``action=publish``) the posted text."""
    text, name, problems = posted()
    if problems:
        return editor_page(text, name, problems, status=422)
    spec, diagnostics = check_text(text, name)
    if spec is None:
        return editor_page(text, name, diagnostics, status=422)
    if request.form.get("action") == "publish":
        return _publish(text, name, spec)
    problem = definitions.version_problem(db(), spec, text, name)
    notes = [dataclasses.replace(problem, severity="warning")] if problem else []
    return editor_page(text, name, [], spec, notes=notes)


def _confirmation(text: str, name: str, spec: WorkflowSpec, notice: str | None = None) -> Any:
    """What publishing would change, before it does: the instances in progress per version and what
    becomes of them (they keep their version, or the migration map's dry run); nothing is written."""
    plan = migration.plan(db(), spec) if spec.migrate_from else None
    live: dict[int, int] = defaultdict(int)
    for (version, _state), count in migration.live_counts(db(), spec.id).items():
        live[version] += count
    total = sum(live.values())
    staying = total - (plan.moving if plan else 0)
    body = render_template("studio/confirm.html", text=text, name=name, spec=spec, plan=plan, notice=notice,
                           live=sorted(live.items()), total=total, staying=staying,
                           active=definitions.active_version(db(), spec.id), on_home=homepage.is_shown(db(), spec.id))
    return body, 200, NO_STORE


def _publish(text: str, name: str, spec: WorkflowSpec) -> Any:
    problem = definitions.version_problem(db(), spec, text, name)
    if problem is not None:
        return editor_page(text, name, [problem], status=422)
    if request.form.get("confirm") != spec.checksum:  # confirmed for this very text, or shown what it does
        return _confirmation(text, name, spec)
    try:
        with transaction(sessions()) as session:
            # Checked again inside the transaction: someone may have published meanwhile.
            problem = definitions.version_problem(session, spec, text, name)
            if problem is not None:
                raise Refused(problem)
            definitions.publish(session, spec, text, f"studio/{name}")
            done = migration.apply(session, spec, now=utcnow(), actor_id=current_user.id) \
                if spec.migrate_from else None
    except Refused as refused:
        return editor_page(text, name, [refused.diagnostic], status=422)
    except StaleDataError:  # a visitor moved one of the instances meanwhile: nothing was published
        db().expire_all()
        return _confirmation(text, name, spec, _("Some instances moved while publishing; nothing was changed. "
                                                 "Here are the figures again."))
    except DefinitionError as error:
        line, column = definitions.version_position(text)
        return editor_page(text, name, [Diagnostic(name, line, column, str(error))], status=422)
    flash(_("Version %(version)s of %(id)s is published: new visitors get it.", version=spec.version, id=spec.id))
    if done is not None:
        flash(_("%(moved)s live instance(s) moved to version %(version)s.", moved=done.moving, version=spec.version))
    return redirect(url_for("studio.show", workflow_id=spec.id), code=303)
