"""Walking an unpublished workflow without recording anything: where a trigger leads, what would run.

The studio's preview uses it. Conditions are evaluated over the answers given in the preview;
actions (mail, ``set``, registered ones) are only described, never run, and no row is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engagement.expressions import Answers, holds
from engagement.workflow.actions import typed
from engagement.workflow.runtime import MAX_AUTOMATIC_HOPS
from engagement.workflow.spec import ActionSpec, TransitionSpec, WorkflowSpec


@dataclass(frozen=True)
class Hop:
    source: str
    dest: str
    trigger: str
    actions: tuple[str, ...]  # what would run, described: on_exit, on_enter, then the transition's


@dataclass(frozen=True)
class Outcome:
    """Where the walk stands; ``problem`` says why it could not move: ``no_transition`` or ``loop``."""

    state: str
    hops: tuple[Hop, ...] = ()
    problem: str | None = None


def context(spec: WorkflowSpec, state: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What expressions see in the preview: the answers, an anonymous visitor, no instance id."""
    return {"data": Answers(typed(spec, data)), "user": None, "now": now,
            "instance": {"id": None, "state": state, "version": spec.version, "started_at": now}}


def describe(action: ActionSpec) -> str:
    if action.kind == "mail":
        what = action.params.get("template") or action.params.get("subject") or ""
        return f"mail {what} to {action.params.get('to')}"
    if action.kind == "set":
        return "set " + ", ".join(sorted(action.params))
    return action.name


def _taken(spec: WorkflowSpec, state: str, trigger: str, data: dict[str, Any], now: datetime) -> TransitionSpec | None:
    expressions = context(spec, state, data, now)
    for transition in spec.transitions:
        if transition.trigger != trigger or state not in transition.sources:
            continue
        if all(holds(c, expressions) for c in transition.conditions) and \
                not any(holds(c, expressions) for c in transition.unless):
            return transition
    return None


def _hop(spec: WorkflowSpec, state: str, transition: TransitionSpec) -> Hop:
    actions = (*spec.states[state].on_exit, *spec.states[transition.dest].on_enter, *transition.actions)
    return Hop(state, transition.dest, transition.trigger, tuple(describe(a) for a in actions))


def route(spec: WorkflowSpec, state: str, data: dict[str, Any], now: datetime,
          hops: tuple[Hop, ...] = ()) -> Outcome:
    """Leave automatic states through their first transition whose conditions hold."""
    for _ in range(MAX_AUTOMATIC_HOPS):
        if not spec.states[state].automatic:
            return Outcome(state, hops)
        found = next((t for trigger in spec.triggers_from(state)
                      if (t := _taken(spec, state, trigger, data, now)) is not None), None)
        if found is None:
            return Outcome(state, hops, "no_transition")
        hops, state = (*hops, _hop(spec, state, found)), found.dest
    return Outcome(state, hops, "loop")


def follow(spec: WorkflowSpec, state: str, trigger: str, data: dict[str, Any], now: datetime) -> Outcome:
    """Where ``trigger`` leads from ``state`` with these answers (then through automatic states)."""
    transition = _taken(spec, state, trigger, data, now)
    if transition is None:
        return Outcome(state, (), "no_transition")
    return route(spec, transition.dest, data, now, (_hop(spec, state, transition),))
