"""The file as a whole: its top-level keys, inputs and ``migrate_from``; walks the other parts in file order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engagement.i18n import N_, Phrase
from engagement.workflow.checker.base import RESERVED
from engagement.workflow.checker.deferred import check_deferred
from engagement.workflow.checker.graph import check_graph
from engagement.workflow.checker.names import known
from engagement.workflow.checker.states import check_states
from engagement.workflow.checker.transitions import check_transitions
from engagement.workflow.loader import Path
from engagement.workflow.spec import ACCESS_LEVELS, StateSpec, WorkflowSpec

if TYPE_CHECKING:
    from engagement.workflow.checker.base import Checker

TOP_KEYS = {"id", "version", "title", "description", "subtitle", "inputs", "access", "initial", "states",
            "transitions", "migrate_from"}


def check_document(c: Checker) -> WorkflowSpec | None:
    """The compiled spec, or None when any diagnostic was found."""
    doc, root = c.loc.data, ()
    if not c.keys(doc, root, TOP_KEYS, Phrase(N_("a workflow"))):
        return None
    workflow_id, version, access = _identity(c, doc)
    inputs = _inputs(c, doc.get("inputs"), ("inputs",))
    subtitle = c.text(doc.get("subtitle"), ("subtitle",))
    for locale, source in subtitle.items():
        c.deferred.append((("subtitle",) if locale == "*" else ("subtitle", locale), source, "template"))
    states = check_states(c, doc.get("states"), ("states",))
    transitions = check_transitions(c, doc.get("transitions"), ("transitions",), states)
    migrate_from = _migrate_from(c, doc.get("migrate_from"), ("migrate_from",), version, states)
    initial = doc.get("initial")
    if "initial" in doc and not known(initial, states):
        c.error(("initial",), N_("initial state %(state)r is not a declared state"), state=initial)
    if states and known(initial, states):
        check_graph(c, states, transitions, initial)
    check_deferred(c)
    if c.diagnostics or workflow_id is None:
        return None
    return WorkflowSpec(
        id=workflow_id, version=version, initial=initial, states=states,
        transitions=tuple(transitions), title=c.text(doc.get("title"), ("title",)),
        description=c.text(doc.get("description"), ("description",)), access=access,
        subtitle=subtitle, inputs=inputs, migrate_from=migrate_from,
    )


def _identity(c: Checker, doc: dict[str, Any]) -> tuple[str | None, Any, Any]:
    """The required keys, then the file's id, version and access level (as written: checked, not fixed)."""
    for required in ("id", "version", "initial", "states", "transitions"):
        if required not in doc:
            c.error((), N_("missing required key %(name)r"), name=required)
    workflow_id = c.name(doc.get("id"), ("id",), N_("id")) if "id" in doc else None
    version = doc.get("version")
    if "version" in doc and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        c.error(("version",), N_("version must be an integer >= 1"))
    access = doc.get("access", "public")
    if access not in ACCESS_LEVELS:
        c.error(("access",), N_("access must be one of %(allowed)s"), allowed=", ".join(ACCESS_LEVELS))
    return workflow_id, version, access


def _inputs(c: Checker, node: Any, path: Path) -> tuple[str, ...]:
    """Answers the page that opens the workflow provides (an event's slug, say): names only."""
    if node is None:
        return ()
    if not isinstance(node, list):
        c.error(path, N_("inputs must be a list of names"))
        return ()
    names = tuple(n for i, item in enumerate(node) if (n := c.name(item, (*path, i), N_("input"), RESERVED)))
    c.data_keys |= set(names)
    return names


def _migrate_from(c: Checker, node: Any, path: Path, version: Any,
                  states: dict[str, StateSpec]) -> dict[int, dict[str, str]]:
    """``{old version: {old state: new state}}``: where live instances of older versions move."""
    if node is None:
        return {}
    if not isinstance(node, dict) or not node:
        c.error(path, N_("migrate_from must be a mapping {old version: {old state: new state}}"))
        return {}
    result: dict[int, dict[str, str]] = {}
    for old, mapping in node.items():
        number = int(old) if str(old).isdigit() else None
        if number is None or number < 1 or (isinstance(version, int) and number >= version):
            c.error((*path, old), N_("migrate_from key %(old)r is not an older version "
                                     "(a positive integer below version %(version)s)"), key=True,
                    old=old, version=version)
            continue
        if not isinstance(mapping, dict) or not mapping:
            c.error((*path, old), N_("a migration is a mapping {old state: new state}"))
            continue
        result[number] = _migration(c, mapping, (*path, old), states)
    return result


def _migration(c: Checker, mapping: dict[Any, Any], path: Path, states: dict[str, StateSpec]) -> dict[str, str]:
    """One old version's ``{old state: new state}``: each target a state of this file where an instance waits."""
    moves: dict[str, str] = {}
    for source, dest in mapping.items():
        if c.name(source, (*path, source), N_("old state"), key=True) is None:
            continue
        if not isinstance(dest, str) or dest not in states:
            c.error((*path, source), N_("migration target %(state)r is not a state of this file"), state=dest)
        elif states[dest].automatic:
            c.error((*path, source), N_("migration target %(state)r is automatic: "
                                        "an instance cannot wait there"), state=dest)
        else:
            moves[source] = dest
    return moves
