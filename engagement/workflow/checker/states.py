"""The ``states:`` mapping: each state's keys, its fields (``fields.FieldChecker``), actions and ``sla``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from engagement.i18n import N_, Phrase
from engagement.workflow.checker.actions import check_actions
from engagement.workflow.checker.base import RESERVED
from engagement.workflow.loader import Path
from engagement.workflow.spec import FieldSpec, StateSpec

if TYPE_CHECKING:
    from engagement.workflow.checker.base import Checker

STATE_KEYS = {"title", "help", "fields", "final", "on_enter", "on_exit", "allow_back", "automatic", "sla",
              "review"}
SLA = re.compile(r"^([1-9][0-9]{0,6})([smhd])$")  # `sla: 48h`: an integer and a unit
SLA_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def check_states(c: Checker, node: Any, path: Path) -> dict[str, StateSpec]:
    if not isinstance(node, dict) or not node:
        if node is not None:
            c.error(path, N_("states must be a non-empty mapping"))
        return {}
    states = {}
    for name, body in node.items():
        state_path = (*path, name)
        checked = c.name(name, state_path, N_("state name"), RESERVED, key=True)
        body = {} if body is None else body
        what = Phrase(N_("state %(state)r"), {"state": name})
        if not c.keys(body, state_path, STATE_KEYS, what) or checked is None:
            continue
        states[name] = _state(c, name, body, state_path)
    return states


def _state(c: Checker, name: str, body: dict[str, Any], path: Path) -> StateSpec:
    fields = tuple(_fields(c, body.get("fields"), (*path, "fields")))
    state = StateSpec(
        name=name, title=c.text(body.get("title"), (*path, "title")),
        help=c.text(body.get("help"), (*path, "help")), fields=fields,
        final=c.boolean(body, "final", path, False),
        on_enter=check_actions(c, body.get("on_enter"), (*path, "on_enter")),
        on_exit=check_actions(c, body.get("on_exit"), (*path, "on_exit")),
        allow_back=c.boolean(body, "allow_back", path, True),
        page=not c.boolean(body, "automatic", path, True),
        sla_seconds=_sla(c, body, path),
        review=c.boolean(body, "review", path, False),
    )
    if state.final and fields:
        c.error((*path, "fields"), N_("final state %(state)r cannot have fields"), state=name)
    if "automatic" in body and (fields or state.final):
        c.error((*path, "automatic"), N_("only a state without fields, not final, takes automatic"))
    if state.review and (state.final or any(f.type != "consent" for f in fields)):
        c.error((*path, "review"), N_("review state %(state)r cannot be final nor have fields "
                                      "other than consent boxes"), state=name)
    if "sla" in body and state.final:
        c.error((*path, "sla"), N_("final state %(state)r cannot have an sla (nobody waits there)"), state=name)
    return state


def _sla(c: Checker, body: dict[str, Any], path: Path) -> int | None:
    """``sla: 48h``: seconds after which an instance still in the state is stuck (s, m, h or d)."""
    if "sla" not in body:
        return None
    match = SLA.match(body["sla"]) if isinstance(body["sla"], str) else None
    if match is None:
        c.error((*path, "sla"), N_("sla must be a positive integer and a unit s, m, h or d (like 48h), "
                                   "got %(value)r"), value=body["sla"])
        return None
    return int(match[1]) * SLA_UNITS[match[2]]


def _fields(c: Checker, node: Any, path: Path) -> Iterable[FieldSpec]:
    if node is None:
        return
    if not isinstance(node, list):
        c.error(path, N_("fields must be a list"))
        return
    for i, body in enumerate(node):
        spec = c.field_checker.field(body, (*path, i))
        if spec is not None:
            yield spec
