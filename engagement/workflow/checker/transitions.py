"""The ``transitions:`` list: trigger, sources and destination among the states, guards, actions, rate limit."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from limits import parse_many

from engagement.i18n import N_, Phrase
from engagement.workflow.checker.actions import check_actions
from engagement.workflow.checker.base import RESERVED
from engagement.workflow.checker.names import known
from engagement.workflow.loader import Path
from engagement.workflow.spec import StateSpec, TransitionSpec

if TYPE_CHECKING:
    from engagement.workflow.checker.base import Checker

TRANSITION_KEYS = {"trigger", "source", "dest", "conditions", "unless", "actions", "label", "rate_limit",
                   "validate"}
ZERO_PERIOD = re.compile(r"(?:^|[/\s])0+\s*[a-z]", re.I)  # "per 0 hours" would silently mean per hour


def check_transitions(c: Checker, node: Any, path: Path, states: dict[str, StateSpec]) -> list[TransitionSpec]:
    if not isinstance(node, list):
        if node is not None:
            c.error(path, N_("transitions must be a list"))
        return []
    result = []
    for i, body in enumerate(node):
        spec = _transition(c, body, (*path, i), states)
        if spec is not None:
            result.append(spec)
    return result


def _transition(c: Checker, body: Any, path: Path, states: dict[str, StateSpec]) -> TransitionSpec | None:
    if not c.keys(body, path, TRANSITION_KEYS, Phrase(N_("a transition"))):
        return None
    for required in ("trigger", "source", "dest"):
        if required not in body:
            c.error(path, N_("a transition needs %(name)r"), name=required)
    trigger = c.name(body.get("trigger"), (*path, "trigger"), N_("trigger"), RESERVED)
    dest = body.get("dest")
    if "dest" in body and not known(dest, states):
        c.error((*path, "dest"), N_("unknown state %(state)r"), state=dest)
    sources = _sources(c, body.get("source"), (*path, "source"), states)
    conditions = c.expressions(body.get("conditions"), (*path, "conditions"))
    unless = c.expressions(body.get("unless"), (*path, "unless"))
    actions = check_actions(c, body.get("actions"), (*path, "actions"))
    rate_limit = _rate_limit(c, body.get("rate_limit"), (*path, "rate_limit"))
    if trigger is None or not known(dest, states) or not sources:
        return None
    return TransitionSpec(trigger, sources, dest, conditions, unless, actions,
                          c.text(body.get("label"), (*path, "label")), rate_limit,
                          validate=c.boolean(body, "validate", path, True))


def _rate_limit(c: Checker, node: Any, path: Path) -> str | None:
    """``"10 per hour"`` or several separated by ``;`` (the `limits` library's notation)."""
    if node is None:
        return None
    try:
        if not isinstance(node, str) or ZERO_PERIOD.search(node):
            raise ValueError(node)
        if any(item.amount < 1 for item in parse_many(node)):
            raise ValueError(node)
    except ValueError:
        c.error(path, N_("rate_limit must read like '10 per hour' or '5 per minute; 50 per day'"))
        return None
    return node


def _sources(c: Checker, node: Any, path: Path, states: dict[str, StateSpec]) -> tuple[str, ...]:
    if node == "*":
        return tuple(name for name, state in states.items() if not state.final)
    items = node if isinstance(node, list) else [node]
    result = []
    for i, source in enumerate(items):
        where = (*path, i) if isinstance(node, list) else path
        if not known(source, states):
            c.error(where, N_("unknown state %(state)r"), state=source)
        elif states[source].final:
            c.error(where, N_("transition out of final state %(state)r"), state=source)
        else:
            result.append(source)
    return tuple(result)
