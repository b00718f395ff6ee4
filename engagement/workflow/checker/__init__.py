"""Validation of workflow files: every rejection of the contract, each with file:line:column.

One module per part of the file: ``document`` (top-level keys, inputs, migrate_from) walks ``states``
(with ``fields``, whose rules per type are the table in ``workflow.fieldtypes``), ``transitions``,
``actions``, then the ``graph`` and the ``deferred`` expressions and templates; ``base`` holds what they
share (the diagnostics, the names collected, the typed readers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path as FsPath

from engagement.i18n import N_, Phrase
from engagement.workflow.checker.base import Checker
from engagement.workflow.checker.document import check_document
from engagement.workflow.labels import missing_labels
from engagement.workflow.loader import Diagnostic, LoadError, load_text
from engagement.workflow.registry import REGISTRY, Registry
from engagement.workflow.spec import WorkflowSpec

__all__ = ["CheckedFile", "Checker", "check_files", "check_text"]


def check_text(text: str, path: str, registry: Registry = REGISTRY) -> tuple[WorkflowSpec | None, list[Diagnostic]]:
    """Check one file's text; returns the compiled spec (or None) and every diagnostic."""
    try:
        located = load_text(text)
    except LoadError as exc:
        return None, [Diagnostic.of(path, exc.line, exc.column, exc.phrase)]
    checker = Checker(located, path, registry)
    spec = check_document(checker)
    if spec is not None:  # a sound file: now the texts a person reads (their paths hold, every part was kept)
        for where, key, message in missing_labels(spec):
            checker.error(where, message, key=key)
        spec = None if checker.diagnostics else spec
    if spec is not None:
        checksum = hashlib.sha256(text.encode()).hexdigest()
        spec = WorkflowSpec(**{**spec.__dict__, "checksum": checksum})
    return spec, sorted(checker.diagnostics, key=lambda d: (d.line, d.column))


CheckedFile = tuple[FsPath, str, WorkflowSpec]


def check_files(paths: Iterable[FsPath], registry: Registry = REGISTRY) -> tuple[list[CheckedFile], list[Diagnostic]]:
    """Check many files, also refusing two files that declare one id; returns the valid ones."""
    specs: list[CheckedFile] = []
    diagnostics: list[Diagnostic] = []
    seen: dict[str, str] = {}
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            unread = Phrase(N_("cannot read file: %(error)s"), {"error": exc})
            diagnostics.append(Diagnostic.of(str(path), 1, 1, unread))
            continue
        spec, found = check_text(text, str(path), registry)
        diagnostics.extend(found)
        if spec is None:
            continue
        if spec.id in seen:
            line, column = load_text(text).where(("id",))
            message = Phrase(N_("id %(id)r is already declared in %(path)s"), {"id": spec.id, "path": seen[spec.id]})
            diagnostics.append(Diagnostic.of(str(path), line, column, message))
            continue
        seen[spec.id] = str(path)
        specs.append((path, text, spec))
    return specs, diagnostics
