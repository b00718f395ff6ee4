"""Published workflow versions: loading files, activating versions, finding the compiled machine."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engagement.i18n import N_, Phrase
from engagement.workflow.checker import check_files, check_text
from engagement.workflow.loader import Diagnostic, LoadError, load_text
from engagement.workflow.machine import CompiledWorkflow, compiled
from engagement.workflow.models import WorkflowDefinition, WorkflowInstance
from engagement.workflow.registry import REGISTRY
from engagement.workflow.spec import WorkflowSpec

ACTIVE_TTL_SECONDS = 2.0  # how soon every process sees a newly published version
VERSION_TAKEN = N_("version %(version)s of %(id)s is already published (the latest is %(latest)s): "
                   "write version: %(next)s to publish this file")


class DefinitionError(Exception):
    """A workflow cannot be published as asked; the message says why."""


@dataclass(frozen=True)
class Published:
    definition_id: int
    workflow_id: str
    version: int
    changed: bool


def workflow_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])


def publish(session: Session, spec: WorkflowSpec, source: str, source_name: str) -> Published:
    """Store ``spec`` as the active version; a changed file may not reuse a version in use."""
    existing = session.scalar(select(WorkflowDefinition).where(
        WorkflowDefinition.workflow_id == spec.id, WorkflowDefinition.version == spec.version))
    changed = existing is None or existing.checksum != spec.checksum
    if existing is not None and changed:
        in_use = session.scalar(select(func.count()).select_from(WorkflowInstance).where(
            WorkflowInstance.workflow_id == spec.id, WorkflowInstance.version == spec.version))
        if in_use:
            raise DefinitionError(
                f"{source_name}: version {spec.version} of {spec.id!r} changed but {in_use} "
                "instance(s) already run on it: give the file a new version")
        existing.source, existing.checksum, existing.source_name = source, spec.checksum, source_name
    if existing is None:
        existing = WorkflowDefinition(workflow_id=spec.id, version=spec.version, source=source,
                                      source_name=source_name, checksum=spec.checksum)
        session.add(existing)
    session.execute(update(WorkflowDefinition).where(
        WorkflowDefinition.workflow_id == spec.id, WorkflowDefinition.version != spec.version,
    ).values(is_active=False))
    changed = changed or not existing.is_active
    existing.is_active = True
    session.flush()
    _ACTIVE.clear()
    return Published(existing.id, spec.id, spec.version, changed)


def version_problem(session: Session, spec: WorkflowSpec, text: str, name: str) -> Diagnostic | None:
    """A new version must be above every version already published (active or not): the diagnostic, at the
    file's ``version:``, when it is not; None when it is.

    What the studio publishes is always new. Files loaded from disk (start-up, ``workflows load``) follow
    `publish`'s rule instead: the same version may be loaded again, unchanged or while nothing runs on it."""
    latest = latest_version(session, spec.id)
    if latest is None or spec.version > latest:
        return None
    line, column = version_position(text)
    return Diagnostic.of(name, line, column, Phrase(VERSION_TAKEN, {
        "version": spec.version, "id": spec.id, "latest": latest, "next": latest + 1}))


def version_position(text: str) -> tuple[int, int]:
    """The (line, column) of a source's ``version:`` (1, 1 when the text does not load)."""
    try:
        return load_text(text).where(("version",))
    except LoadError:
        return 1, 1


def load_files(session: Session, paths: Iterable[Path]) -> tuple[list[Published], list[Diagnostic]]:
    """Check then publish files; a bad file is refused and the version already active keeps serving."""
    checked, diagnostics = check_files(paths)
    published = []
    for path, text, spec in checked:
        if (active_version(session, spec.id) or 0) > spec.version:
            continue  # a newer version (published from the studio) keeps serving
        try:
            with session.begin_nested():
                published.append(publish(session, spec, text, path.name))
        except DefinitionError as exc:
            line, column = version_position(text)
            diagnostics.append(Diagnostic(str(path), line, column, str(exc).split(": ", 1)[-1]))
    return published, diagnostics


def active_version(session: Session, workflow_id: str) -> int | None:
    return session.scalar(select(WorkflowDefinition.version).where(
        WorkflowDefinition.workflow_id == workflow_id, WorkflowDefinition.is_active.is_(True)))


def latest_version(session: Session, workflow_id: str) -> int | None:
    """The highest version ever published of ``workflow_id`` (active or not)."""
    return session.scalar(select(func.max(WorkflowDefinition.version)).where(
        WorkflowDefinition.workflow_id == workflow_id))


def unpublish(session: Session, workflow_id: str) -> int | None:
    """Deactivate the active version; the newest older one serves again (None: nothing serves).

    Instances keep the version they started on: their rows and definitions stay.
    """
    current = active_version(session, workflow_id)
    if current is None:
        raise DefinitionError(f"{workflow_id!r} has no published version")
    session.execute(update(WorkflowDefinition).where(WorkflowDefinition.workflow_id == workflow_id)
                    .values(is_active=False))
    previous = session.scalar(select(func.max(WorkflowDefinition.version)).where(
        WorkflowDefinition.workflow_id == workflow_id, WorkflowDefinition.version < current))
    if previous is not None:
        session.execute(update(WorkflowDefinition).where(
            WorkflowDefinition.workflow_id == workflow_id, WorkflowDefinition.version == previous,
        ).values(is_active=True))
    session.flush()
    _ACTIVE.clear()
    return previous


_SPECS: dict[str, WorkflowSpec] = {}
_COMPILED: dict[tuple[int, str], CompiledWorkflow] = {}
_ACTIVE: dict[str, tuple[float, tuple[int, str] | None]] = {}
_VERSIONS: dict[tuple[str, int], tuple[float, tuple[int, str]]] = {}


def _spec(definition: WorkflowDefinition) -> WorkflowSpec:
    spec = _SPECS.get(definition.checksum)
    if spec is None:
        spec, diagnostics = check_text(definition.source, definition.source_name, REGISTRY)
        if spec is None:
            raise DefinitionError("; ".join(str(d) for d in diagnostics))
        _SPECS[definition.checksum] = spec
    return spec


def spec_of(definition: WorkflowDefinition) -> WorkflowSpec:
    """The checked spec of one stored version (cached by checksum)."""
    return _spec(definition)


def _compiled(session: Session, key: tuple[int, str]) -> CompiledWorkflow:
    found = _COMPILED.get(key)
    if found is None:
        definition = session.get(WorkflowDefinition, key[0])
        if definition is None:
            raise DefinitionError(f"workflow definition {key[0]} is gone")
        found = _COMPILED[key] = compiled(_spec(definition))
    return found


def _key(session: Session, *where: Any) -> tuple[int, str] | None:
    row = session.execute(select(WorkflowDefinition.id, WorkflowDefinition.checksum).where(*where)).first()
    return None if row is None else (row[0], row[1])


def active(session: Session, workflow_id: str) -> CompiledWorkflow | None:
    """The compiled active version of ``workflow_id`` (looked up at most every ACTIVE_TTL_SECONDS)."""
    now = time.monotonic()
    cached = _ACTIVE.get(workflow_id)
    if cached is None or now - cached[0] > ACTIVE_TTL_SECONDS:
        key = _key(session, WorkflowDefinition.workflow_id == workflow_id,
                   WorkflowDefinition.is_active.is_(True))
        cached = _ACTIVE[workflow_id] = (now, key)
    return _compiled(session, cached[1]) if cached[1] is not None else None


def of_instance(session: Session, instance: WorkflowInstance) -> CompiledWorkflow:
    """The machine of the version an instance runs on: the one it started on, unless a publish
    migrated it (``migrate_from``)."""
    return of_version(session, instance.workflow_id, instance.version)


def of_version(session: Session, workflow_id: str, version: int) -> CompiledWorkflow:
    """The machine of one published version of ``workflow_id`` (active or not)."""
    now = time.monotonic()
    cached = _VERSIONS.get((workflow_id, version))
    if cached is None or now - cached[0] > ACTIVE_TTL_SECONDS:
        key = _key(session, WorkflowDefinition.workflow_id == workflow_id, WorkflowDefinition.version == version)
        if key is None:
            raise DefinitionError(f"version {version} of {workflow_id!r} is gone")
        cached = _VERSIONS[(workflow_id, version)] = (now, key)
    return _compiled(session, cached[1])


def reset_caches() -> None:
    """Forget what maps names to database rows (tests switch databases; specs stay cached by checksum)."""
    _ACTIVE.clear()
    _VERSIONS.clear()


def listing(session: Session) -> list[WorkflowDefinition]:
    return list(session.scalars(select(WorkflowDefinition).order_by(
        WorkflowDefinition.workflow_id, WorkflowDefinition.version)))
